/**
 * A process the benchmark starts: a platform service (`services/<name>/dist/main.js`) or one of
 * bench/'s own (the no-op worker, the raw floor, BullMQ). Its JSON log lines can be waited on;
 * only the latest lines are kept, so a long run does not grow this process's memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..', '..');

/**
 * The environment every started process inherits: this one's, without OpenTelemetry settings
 * (tracing is off by default in production; a stray OTEL_TRACES_EXPORTER would turn it on).
 */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('OTEL_')) env[key] = value;
  }
  return env;
}

/** Entry of a platform service, as production runs it. */
export const serviceEntry = (service: string): string =>
  join(REPO_ROOT, 'services', service, 'dist', 'main.js');

/** Entry of one of bench/'s own processes (compiled to bench/dist/processes). */
export const benchEntry = (name: string): string =>
  join(REPO_ROOT, 'bench', 'dist', 'processes', `${name}.js`);

/** How long a started process may take to say it is ready (a busy shared broker is slow). */
const START_TIMEOUT_MS = 90_000;

interface Waiter {
  readonly match: (line: Record<string, unknown>) => boolean;
  readonly resolve: (line: Record<string, unknown>) => void;
}

export class BenchProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private readonly recent: string[] = [];
  private readonly waiters = new Set<Waiter>();
  private exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    entry: string,
    env: Record<string, string>,
    nodeArgs: readonly string[] = [],
  ) {
    this.child = spawn(process.execPath, [...nodeArgs, entry], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let buffer = '';
      stream?.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          this.onLine(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
        }
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The last lines it printed, for an error message. */
  tail(n = 15): string {
    return this.recent.slice(-n).join('\n');
  }

  private onLine(text: string): void {
    this.recent.push(text);
    if (this.recent.length > 200) this.recent.shift();
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    for (const waiter of this.waiters) {
      if (waiter.match(line)) {
        this.waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  }

  /**
   * Resolves with the first later log line whose `msg` is `msg` (and whose fields equal
   * `fields`, when given); rejects on exit or timeout.
   */
  waitForLog(
    msg: string,
    fields: Record<string, unknown> = {},
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(`${this.name} did not log "${msg}" within ${timeoutMs} ms:\n${this.tail()}`),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        match: (line) =>
          line.msg === msg && Object.entries(fields).every(([key, value]) => line[key] === value),
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.waiters.add(waiter);
      void this.exited.then((code) => {
        if (!this.waiters.delete(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${String(code)}) before "${msg}":\n${this.tail()}`));
      });
    });
  }

  /** SIGTERM (graceful drain), SIGKILL after `timeoutMs`; resolves with the exit code. */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    if (!this.running) return this.exitCode ?? null;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The processes of one compared system, by label; worker replicas are `worker`, `worker#2`, … */
export class ProcessGroup {
  private readonly procs: BenchProcess[] = [];
  private workers = 0;

  constructor(private readonly env: Record<string, string>) {}

  /**
   * Starts a process; resolves with its first log line whose `msg` is `ready`, once the `also`
   * lines (message and fields) were logged too.
   */
  async start(
    label: string,
    entry: string,
    ready: string,
    nodeArgs: readonly string[] = [],
    also: readonly { msg: string; fields?: Record<string, unknown> }[] = [],
  ): Promise<Record<string, unknown>> {
    const proc = new BenchProcess(label, entry, this.env, nodeArgs);
    this.procs.push(proc);
    const [line] = await Promise.all([
      proc.waitForLog(ready, {}, START_TIMEOUT_MS),
      ...also.map((a) => proc.waitForLog(a.msg, a.fields, START_TIMEOUT_MS)),
    ]);
    return line;
  }

  /** Label of the next worker replica. */
  nextWorkerLabel(): string {
    this.workers += 1;
    return this.workers === 1 ? 'worker' : `worker#${this.workers}`;
  }

  /** Pids of the running processes by label. */
  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const proc of this.procs) if (proc.running) out[proc.name] = proc.pid;
    return out;
  }

  /** Stops worker replicas (the newest first) until `count` run. */
  async keepWorkers(count: number): Promise<void> {
    const workers = this.procs.filter((p) => p.running && p.name.startsWith('worker'));
    await Promise.all(workers.slice(count).map((p) => p.stop()));
    this.workers = Math.min(this.workers, count);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
  }
}

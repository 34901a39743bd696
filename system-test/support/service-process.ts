/**
 * One platform service as a real child process (`node <folder>/dist/main.js`, its folder from the
 * service manifest), with its JSON log lines collected so tests can wait on them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SERVICE_NAMES, type ServiceName, serviceSpec, type ServiceSpec } from '@tasks/contracts';
import { waitFor } from '@tasks/runtime/testing';

export { SERVICE_NAMES, type ServiceName };

/** The manifest entry of `name`. */
export function specOf(name: ServiceName): ServiceSpec {
  const spec = serviceSpec(name);
  if (!spec) throw new Error(`"${name}" is not a service of contracts/src/services.json`);
  return spec;
}

/**
 * The repository root: the nearest folder above this file that holds the services. Found rather
 * than fixed, so the helpers also work compiled (the chaos run's build lives deeper).
 */
export const REPO_ROOT = findRepoRoot(__dirname);

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'services', 'gateway', 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no repository root (with services/) above ${from}`);
  }
}

/**
 * The folder of `name` in the repository at `root`, from that repository's own manifest (a
 * scaffolded copy may have services this checkout does not).
 */
function folderOf(name: string, root: string): string {
  if (root === REPO_ROOT) return specOf(name).folder;
  const manifest = JSON.parse(
    readFileSync(join(root, 'contracts', 'src', 'services.json'), 'utf8'),
  ) as { services: { name: string; folder: string }[] };
  const spec = manifest.services.find((s) => s.name === name);
  if (!spec) throw new Error(`"${name}" is not a service of ${root}'s manifest`);
  return spec.folder;
}

export interface LogLine {
  readonly msg?: string;
  readonly level?: number;
  readonly [key: string]: unknown;
}

export class ServiceProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly raw: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  /** `root`: the repository whose build runs (this checkout by default). */
  constructor(
    readonly name: ServiceName,
    env: Record<string, string>,
    root: string = REPO_ROOT,
  ) {
    const entry = join(root, folderOf(name, root), 'dist', 'main.js');
    this.child = spawn(process.execPath, ['--enable-source-maps', entry], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (stream: NodeJS.ReadableStream | null): void => {
      let buffer = '';
      stream?.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          this.raw.push(line);
          try {
            this.lines.push(JSON.parse(line) as LogLine);
          } catch {
            // not a JSON line (e.g. a Node warning): kept in `raw` only
          }
          newline = buffer.indexOf('\n');
        }
      });
    };
    collect(this.child.stdout);
    collect(this.child.stderr);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Waits for a log line whose `msg` equals `msg` (and matches `fields`, when given). */
  waitForLog(
    msg: string,
    options: { timeoutMs?: number; fields?: Record<string, unknown> } = {},
  ): Promise<LogLine> {
    return waitFor(
      () =>
        this.lines.find(
          (line) =>
            line.msg === msg &&
            Object.entries(options.fields ?? {}).every(([key, value]) => line[key] === value),
        ),
      { timeoutMs: options.timeoutMs ?? 15_000, message: `${this.name} logs "${msg}"` },
    );
  }

  /** Sends a signal and waits for the exit. */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 30_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.running) return this.exitInfo!;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Log lines at error level or above, for diagnosing a failed test. */
  errors(): LogLine[] {
    return this.lines.filter((line) => (line.level ?? 0) >= 50);
  }
}

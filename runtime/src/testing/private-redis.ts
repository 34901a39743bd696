/**
 * A throw-away `redis-server` child process on a free loopback port, for tests that freeze, pause
 * or kill Redis. The shared Redis is never touched: only this
 * process is signalled, and `stop()` removes its data directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateRedisOptions {
  /** Port to listen on; default a free one chosen by the OS. */
  readonly port?: number;
  /** `--appendonly yes --appendfsync always`, so data survives a `kill -9`. @default false */
  readonly appendOnly?: boolean;
  /** More `redis-server` arguments, e.g. `['--maxmemory', '10mb']`. */
  readonly extraArgs?: readonly string[];
  /** How long to wait for "Ready to accept connections", in ms. @default 10000 */
  readonly startTimeoutMs?: number;
  /** The server binary. @default process.env.REDIS_SERVER_BIN ?? 'redis-server' */
  readonly binary?: string;
}

const READY_LINE = /Ready to accept connections/;
const PORT_IN_USE = /Address already in use/i;

export class PrivateRedis {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private frozen = false;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: PrivateRedisOptions,
  ) {}

  /**
   * Starts a server and resolves once it accepts connections.
   *
   * @throws Error with the server's output when it exits or is not ready in time
   */
  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const dir = mkdtempSync(join(tmpdir(), 'private-redis-'));
    // A port picked by the OS can be taken again before redis binds it: try a few.
    for (let attempt = 1; ; attempt += 1) {
      const server = new PrivateRedis(options.port ?? (await freePort()), dir, options);
      try {
        await server.launch();
        return server;
      } catch (err) {
        const retry = options.port === undefined && attempt < 5 && PORT_IN_USE.test(String(err));
        if (!retry) {
          rmSync(dir, { recursive: true, force: true });
          throw err;
        }
      }
    }
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's process id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True while the process runs (also when frozen). */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** SIGSTOP: the server stops answering, its connections stay open (a frozen host). */
  freeze(): void {
    this.signal('SIGSTOP');
    this.frozen = true;
  }

  /** SIGCONT: the server answers again, including what queued up while it was frozen. */
  thaw(): void {
    this.signal('SIGCONT');
    this.frozen = false;
  }

  /**
   * Sends `signal` (default SIGKILL) and waits for the process to exit. With SIGKILL, data
   * survives only with `appendOnly`.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.child) return;
    const exited = this.exited;
    this.signal(signal);
    if (this.frozen && signal !== 'SIGKILL') this.thaw();
    await exited;
  }

  /** Starts the server again on the same port and data directory (after `kill`). */
  async restart(): Promise<void> {
    if (this.child) throw new Error(`private redis on port ${this.port} is still running`);
    await this.launch();
  }

  /** Stops the server (thawing it first), then removes its data directory. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.child) {
        const exited = this.exited;
        if (this.frozen) this.thaw();
        this.signal('SIGTERM');
        const timer = setTimeout(() => this.child?.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  private signal(signal: NodeJS.Signals): void {
    if (!this.child) throw new Error(`private redis on port ${this.port} is not running`);
    this.child.kill(signal);
  }

  private launch(): Promise<void> {
    const args = [
      '--daemonize', 'no',
      '--bind', '127.0.0.1',
      '--port', String(this.port),
      '--dir', this.dir,
      '--save', '',
      '--appendonly', this.options.appendOnly ? 'yes' : 'no',
      ...(this.options.appendOnly ? ['--appendfsync', 'always'] : []),
      '--enable-debug-command', 'local',
      ...(this.options.extraArgs ?? []),
    ]; // prettier-ignore
    const binary = this.options.binary ?? process.env.REDIS_SERVER_BIN ?? 'redis-server';
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.frozen = false;
    this.exited = new Promise<void>((resolve) => {
      child.once('close', () => {
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });

    let output = '';
    const timeoutMs = this.options.startTimeoutMs ?? 10_000;
    return new Promise<void>((resolve, reject) => {
      const fail = (why: string): void => {
        cleanup();
        child.kill('SIGKILL');
        reject(new Error(`private redis on port ${this.port} ${why}: ${output.slice(-2000)}`));
      };
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        if (READY_LINE.test(output)) {
          cleanup();
          // Keep draining the pipes, so a chatty server never blocks on a full pipe.
          child.stdout?.resume();
          child.stderr?.resume();
          resolve();
        }
      };
      const onExit = (code: number | null): void => fail(`exited (code ${String(code)})`);
      const onError = (err: Error): void => fail(`could not start (${err.message})`);
      const timer = setTimeout(() => fail(`was not ready within ${timeoutMs} ms`), timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        child.off('exit', onExit);
        child.off('error', onError);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', onExit);
      child.once('error', onError);
    });
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

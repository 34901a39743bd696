/**
 * A throw-away RabbitMQ node for destructive fault tests:
 * its own data folder owned by `rabbitmq`, node name `chaos<random>@localhost`, free AMQP and
 * distribution ports, started with `rabbitmq-server -detached`. Faults (`stop_app`,
 * `close_all_connections`, memory alarm, `kill -9`) touch only this node; the shared broker on
 * 5672 is never addressed. `stop()` always stops the node and deletes its folder, and a process
 * exit handler kills the node should a test run end without calling it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from './wait-for';

export interface PrivateRabbitOptions {
  /** How long start-up (and a restart) may take, in ms. @default 120000 */
  readonly startTimeoutMs?: number;
  /** The node's name. @default `chaos<random hex>@localhost` */
  readonly nodename?: string;
  /** More lines of its rabbitmq.conf (e.g. a cluster's peer discovery). */
  readonly config?: readonly string[];
}

export interface CtlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Each CLI call boots an Erlang VM (~0.7 s); none should take longer than this. */
const CTL_TIMEOUT_MS = 60_000;

/** How a start fails when its AMQP or distribution port was taken meanwhile. */
const PORT_TAKEN = /could_not_start_listener|dist_port_already_used|eaddrinuse/i;

/**
 * Ports are drawn below Linux's ephemeral range (32768-60999), where the many outgoing
 * connections of a test run cannot take them between the check and the node's bind.
 */
const PORT_RANGE = { from: 20_000, to: 32_000 } as const;

/** Variables of the shared node's environment that must not leak into ours. */
const INHERITED_RABBITMQ_VARS = /^(RABBITMQ_|ERL_CRASH_DUMP)/;

export class PrivateRabbit {
  private pid: number | undefined;
  private stopping: Promise<void> | undefined;
  private readonly onExit = (): void => this.killSync();

  private constructor(
    readonly nodename: string,
    readonly amqpPort: number,
    readonly distPort: number,
    readonly dir: string,
    private readonly startTimeoutMs: number,
  ) {
    process.once('exit', this.onExit);
  }

  /**
   * Creates the node's folder and starts it; resolves once `await_startup` succeeds.
   *
   * @throws Error with the node's crash dump or log tail when it does not come up in time
   */
  static async start(options: PrivateRabbitOptions = {}): Promise<PrivateRabbit> {
    // A port found free can be taken before the node binds it: try again with new ones.
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await PrivateRabbit.startOnce(options);
      } catch (err) {
        if (attempt >= 3 || !PORT_TAKEN.test(String(err))) throw err;
      }
    }
  }

  private static async startOnce(options: PrivateRabbitOptions): Promise<PrivateRabbit> {
    const [amqpPort = 0, distPort = 0] = await freePorts(2);
    const dir = mkdtempSync(join(tmpdir(), 'private-rabbit-'));
    const rabbit = new PrivateRabbit(
      options.nodename ?? privateNodename(),
      amqpPort,
      distPort,
      dir,
      options.startTimeoutMs ?? 120_000,
    );
    try {
      mkdirSync(join(dir, 'mnesia'));
      mkdirSync(join(dir, 'log'));
      writeFileSync(
        join(dir, 'rabbitmq.conf'),
        [
          `listeners.tcp.local = 127.0.0.1:${amqpPort}`,
          'loopback_users.guest = true',
          ...(options.config ?? []),
          '',
        ].join('\n'),
      );
      writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
      await chownTree(dir, ['mnesia', 'log', 'rabbitmq.conf', 'enabled_plugins']);
      await rabbit.launch();
    } catch (err) {
      await rabbit.stop();
      throw err;
    }
    return rabbit;
  }

  /** `amqp://guest:guest@127.0.0.1:<port>` (guest is allowed on loopback). */
  get amqpUrl(): string {
    return `amqp://guest:guest@127.0.0.1:${this.amqpPort}`;
  }

  /** The node's OS process id, once it started. */
  get osPid(): number | undefined {
    return this.pid;
  }

  /**
   * Runs `rabbitmqctl -n <node> ...args`.
   *
   * @throws Error with the tool's output when it exits non-zero
   */
  async ctl(...args: string[]): Promise<string> {
    const result = await this.run('rabbitmqctl', ['-n', this.nodename, ...args]);
    if (result.code !== 0) {
      throw new Error(
        `rabbitmqctl ${args.join(' ')} exited ${result.code}: ${result.stderr || result.stdout}`,
      );
    }
    return result.stdout;
  }

  /** Names of the running nodes of the cluster this node is in (itself alone when not). */
  async clusterNodes(): Promise<string[]> {
    const out = await this.ctl('eval', 'rabbit_nodes:all_running().');
    return [...out.matchAll(/'?([\w-]+@[\w.-]+)'?/g)].map((m) => m[1] as string);
  }

  /** Closes every client connection (320 CONNECTION_FORCED with `reason`). */
  async closeAllConnections(reason = 'chaos test'): Promise<void> {
    await this.ctl('close_all_connections', reason);
  }

  /** Stops the RabbitMQ application (clients are disconnected; the Erlang node stays up). */
  async stopApp(): Promise<void> {
    await this.ctl('stop_app');
  }

  /** Starts the application again; resolves once it accepts connections. */
  async startApp(): Promise<void> {
    await this.ctl('start_app');
    await this.awaitStartup();
  }

  /**
   * Raises (`true`: watermark of 1 MB absolute, far below use) or clears (`false`: back to 0.4)
   * the memory alarm; with `true` resolves once the alarm is in force, which blocks publishers.
   */
  async setMemoryAlarm(on: boolean): Promise<void> {
    if (on) {
      await this.ctl('set_vm_memory_high_watermark', 'absolute', '1000000');
    } else {
      await this.ctl('set_vm_memory_high_watermark', '0.4');
    }
    await waitFor(async () => (await this.alarms()).includes('memory') === on, {
      timeoutMs: 30_000,
      intervalMs: 200,
      message: `memory alarm ${on ? 'raised' : 'cleared'} on ${this.nodename}`,
    });
  }

  /** The resource alarms in force, e.g. `['memory']`. */
  async alarms(): Promise<string[]> {
    const out = await this.ctl('eval', 'rabbit_alarm:get_alarms().');
    return [...out.matchAll(/resource_limit,(\w+)/g)].map((m) => m[1] as string);
  }

  /** Messages ready and unacknowledged in a queue, from the node itself. */
  async queueCounts(queue: string): Promise<{ ready: number; unacked: number } | undefined> {
    const out = await this.ctl(
      'list_queues',
      '--quiet',
      '--no-table-headers',
      'name',
      'messages_ready',
      'messages_unacknowledged',
    );
    for (const line of out.split('\n')) {
      const [name, ready, unacked] = line.trim().split(/\s+/);
      if (name === queue) return { ready: Number(ready), unacked: Number(unacked) };
    }
    return undefined;
  }

  /** `kill -9` of the node (a hard crash); resolves once the process is gone. */
  async kill9(): Promise<void> {
    const pid = this.pid ?? this.readPid();
    if (pid === undefined) throw new Error(`${this.nodename} has no known process id`);
    signal(pid, 'SIGKILL');
    await waitFor(() => !alive(pid), {
      timeoutMs: 10_000,
      message: `${this.nodename} (pid ${pid}) exits after SIGKILL`,
    });
    this.pid = undefined;
  }

  /** Starts the node again with the same environment and data (after `kill9`). */
  async restart(): Promise<void> {
    rmSync(join(this.dir, 'node.pid'), { force: true });
    await this.launch();
  }

  /**
   * Stops the node (`rabbitmqctl stop`, then SIGKILL if it is still there) and deletes its
   * folder. Idempotent; never throws.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.run('rabbitmqctl', ['-n', this.nodename, 'stop']).catch(() => undefined);
      // Read after the stop: a node still booting writes its pid file late.
      const pid = this.pid ?? this.readPid();
      if (pid !== undefined && alive(pid)) {
        await waitFor(() => !alive(pid), { timeoutMs: 15_000 }).catch(() => {
          signal(pid, 'SIGKILL');
        });
      }
      this.pid = undefined;
      rmSync(this.dir, { recursive: true, force: true });
      process.removeListener('exit', this.onExit);
    })();
    return this.stopping;
  }

  private async launch(): Promise<void> {
    const result = await this.run('rabbitmq-server', ['-detached'], this.nodeEnv());
    if (result.code !== 0) {
      throw new Error(`rabbitmq-server -detached exited ${result.code}: ${result.stderr}`);
    }
    await this.awaitStartup();
    this.pid = this.readPid();
  }

  /**
   * `-detached` returns before the node registers with epmd, and `await_startup` fails at once
   * for a node it cannot see yet: call it until it succeeds, and give up early on a crash dump.
   */
  private async awaitStartup(): Promise<void> {
    const crashDump = join(this.dir, 'erl_crash.dump');
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      if (existsSync(crashDump)) {
        throw new Error(`${this.nodename} crashed: ${readHead(crashDump)}\nlog: ${this.logTail()}`);
      }
      const args = ['-n', this.nodename, 'await_startup', '--timeout', '120'];
      const result = await this.run('rabbitmqctl', args);
      if (result.code === 0) return;
      if (Date.now() > deadline) {
        throw new Error(
          `private RabbitMQ node ${this.nodename} did not start within ` +
            `${this.startTimeoutMs} ms: ${result.stderr}\nlog: ${this.logTail()}`,
        );
      }
      await delay(250);
    }
  }

  private nodeEnv(): NodeJS.ProcessEnv {
    const d = this.dir;
    return {
      RABBITMQ_NODENAME: this.nodename,
      RABBITMQ_NODE_PORT: String(this.amqpPort),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_CONFIG_FILE: join(d, 'rabbitmq.conf'),
      RABBITMQ_MNESIA_BASE: join(d, 'mnesia'),
      RABBITMQ_LOG_BASE: join(d, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(d, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(d, 'node.pid'),
      // Else a failed start drops its dump into the shared node's home folder.
      ERL_CRASH_DUMP: join(d, 'erl_crash.dump'),
    };
  }

  private run(
    command: string,
    args: string[],
    extraEnv: NodeJS.ProcessEnv = {},
  ): Promise<CtlResult> {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!INHERITED_RABBITMQ_VARS.test(key)) env[key] = value;
    }
    return new Promise((resolve) => {
      execFile(
        command,
        args,
        { env: { ...env, ...extraEnv }, timeout: CTL_TIMEOUT_MS, encoding: 'utf8' },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          resolve({ code, stdout, stderr: stderr || (err ? err.message : '') });
        },
      );
    });
  }

  private readPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dir, 'node.pid'), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  private logTail(): string {
    try {
      const log = readFileSync(join(this.dir, 'log', `${this.nodename}.log`), 'utf8');
      return log.slice(-2000);
    } catch {
      return '(no log)';
    }
  }

  /** Last resort on process exit: no node outlives the test run. */
  private killSync(): void {
    const pid = this.pid ?? this.readPid();
    if (pid !== undefined && alive(pid)) signal(pid, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A fresh node name, `chaos<random hex>@localhost`. */
export function privateNodename(): string {
  return `chaos${randomBytes(4).toString('hex')}@localhost`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function readHead(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(0, 3).join(' | ');
  } catch {
    return '(unreadable crash dump)';
  }
}

/** The node runs as `rabbitmq` (the Debian wrapper switches user): it must own its folder. */
async function chownTree(dir: string, entries: string[]): Promise<void> {
  const { uid, gid } = rabbitmqUser();
  await chown(dir, uid, gid);
  for (const entry of entries) await chown(join(dir, entry), uid, gid);
}

function rabbitmqUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('rabbitmq:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('no "rabbitmq" user on this machine');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Distinct loopback ports in PORT_RANGE that are free right now. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (!ports.includes(port) && (await isFree(port))) ports.push(port);
  }
  return ports;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

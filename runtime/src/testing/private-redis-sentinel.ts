/**
 * A throw-away Redis master, one replica and three sentinels on free loopback ports, for tests
 * that kill the master and watch the platform follow the promoted replica. Only these processes
 * are signalled; `stop()` ends them and removes their directories.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { PrivateRedis } from './private-redis';
import { waitFor } from './wait-for';

export interface PrivateRedisSentinelOptions {
  /** @default 'tasks' */
  readonly masterName?: string;
  /** Sentinels call the master down after this much silence. @default 1000 */
  readonly downAfterMs?: number;
  /** @default 5000 */
  readonly failoverTimeoutMs?: number;
  /** The sentinel binary. @default process.env.REDIS_SENTINEL_BIN ?? 'redis-sentinel' */
  readonly binary?: string;
}

const SENTINELS = 3;

export class PrivateRedisSentinel {
  private constructor(
    readonly masterName: string,
    readonly master: PrivateRedis,
    readonly replica: PrivateRedis,
    private readonly sentinelProcesses: { port: number; child: ChildProcess }[],
    private readonly dir: string,
  ) {}

  /** Starts them all; resolves once the replica is in sync and every sentinel knows the rest. */
  static async start(options: PrivateRedisSentinelOptions = {}): Promise<PrivateRedisSentinel> {
    const masterName = options.masterName ?? 'tasks';
    // A full sync starts at once (the default waits 5 s for more replicas to share it).
    const syncAtOnce = ['--repl-diskless-sync-delay', '0'];
    const master = await PrivateRedis.start({ extraArgs: syncAtOnce });
    const replica = await PrivateRedis.start({
      extraArgs: [...syncAtOnce, '--replicaof', '127.0.0.1', String(master.port)],
    }).catch(async (err: unknown) => {
      await master.stop();
      throw err;
    });
    const dir = mkdtempSync(join(tmpdir(), 'private-sentinel-'));
    const sentinels: { port: number; child: ChildProcess }[] = [];
    const set = new PrivateRedisSentinel(masterName, master, replica, sentinels, dir);
    try {
      for (let i = 1; i <= SENTINELS; i += 1) {
        const port = await freePort();
        const conf = join(dir, `sentinel-${i}.conf`);
        // The sentinel rewrites its file (what it learns of the others), so each has its own.
        writeFileSync(
          conf,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            'daemonize no',
            `dir ${dir}`,
            `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 2`,
            `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
            `sentinel failover-timeout ${masterName} ${options.failoverTimeoutMs ?? 5000}`,
            '',
          ].join('\n'),
        );
        const binary = options.binary ?? process.env.REDIS_SENTINEL_BIN ?? 'redis-sentinel';
        const child = spawn(binary, [conf], { stdio: 'ignore' });
        child.on('error', () => undefined); // a missing binary shows as "not ready" below
        sentinels.push({ port, child });
      }
      await set.waitUntilReady();
      return set;
    } catch (err) {
      await set.stop();
      throw err;
    }
  }

  /** host:port of every sentinel. */
  get sentinels(): { host: string; port: number }[] {
    return this.sentinelProcesses.map(({ port }) => ({ host: '127.0.0.1', port }));
  }

  /** The services' settings for this set. */
  env(): Record<string, string> {
    return {
      REDIS_URL: this.master.url,
      REDIS_SENTINELS: this.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      REDIS_MASTER_NAME: this.masterName,
    };
  }

  /** The master's port according to the first sentinel that answers. */
  async masterPort(): Promise<number> {
    for (const { port } of this.sentinels) {
      const reply = await this.ask(port, ['get-master-addr-by-name', this.masterName]).catch(
        () => undefined,
      );
      if (Array.isArray(reply) && reply.length === 2) return Number(reply[1]);
    }
    throw new Error('no sentinel names a master');
  }

  /** SIGKILLs the master; resolves once every sentinel names the replica as master. */
  async killMaster(timeoutMs = 20_000): Promise<{ failoverMs: number }> {
    const killedAt = Date.now();
    await this.master.kill('SIGKILL');
    await waitFor(
      async () => {
        for (const { port } of this.sentinels) {
          const reply = await this.ask(port, ['get-master-addr-by-name', this.masterName]);
          if (!Array.isArray(reply) || Number(reply[1]) !== this.replica.port) return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 50, message: 'the sentinels promote the replica' },
    );
    return { failoverMs: Date.now() - killedAt };
  }

  /**
   * Starts the killed master again, as an orchestrator's restart policy would, as a replica of
   * the promoted one (what a node's start script does after asking a sentinel; left to the
   * sentinels, the conversion takes 8 s more). Resolves once it is in sync, so writes waiting
   * for a replica (WAIT) are answered again.
   */
  async restartOldMaster(timeoutMs = 30_000): Promise<{ rejoinedMs: number }> {
    const startedAt = Date.now();
    await this.master.restart();
    const restarted = new Redis(this.master.url, { maxRetriesPerRequest: 1 });
    restarted.on('error', () => undefined);
    try {
      await restarted.call('REPLICAOF', '127.0.0.1', String(await this.masterPort()));
    } finally {
      restarted.disconnect();
    }
    const promoted = new Redis(this.replica.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    promoted.on('error', () => undefined);
    try {
      await waitFor(
        async () => {
          await promoted.connect().catch(() => undefined);
          const info = await promoted.info('replication');
          return info.includes(`port=${this.master.port},state=online`);
        },
        { timeoutMs, intervalMs: 100, message: 'the old master rejoins as a replica' },
      );
    } finally {
      promoted.disconnect();
    }
    return { rejoinedMs: Date.now() - startedAt };
  }

  /** Ends every process and removes their directories. */
  async stop(): Promise<void> {
    await Promise.all(
      this.sentinelProcesses.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await Promise.all([this.master.stop(), this.replica.stop()]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitUntilReady(): Promise<void> {
    const replica = new Redis(this.replica.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await waitFor(
        async () => {
          await replica.connect().catch(() => undefined);
          const info = await replica.info('replication');
          if (!info.includes('master_link_status:up')) return false;
          // Before every sentinel knows the two others (and the replica), a kill fails over nothing.
          for (const { port } of this.sentinels) {
            const fields = await this.ask(port, ['master', this.masterName]);
            const map = new Map<string, string>();
            for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
            if (map.get('num-other-sentinels') !== String(SENTINELS - 1)) return false;
            if (map.get('num-slaves') !== '1') return false;
          }
          return true;
        },
        { timeoutMs: 30_000, intervalMs: 100, message: 'the replica syncs and the sentinels meet' },
      );
    } finally {
      replica.disconnect();
    }
  }

  private async ask(port: number, args: string[]): Promise<string[]> {
    const client = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.call('SENTINEL', ...args)) as string[];
    } finally {
      client.disconnect();
    }
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

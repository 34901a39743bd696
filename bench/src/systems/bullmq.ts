/**
 * BullMQ (the peer): a Queue in this process as the producer (`queue.add`), no-op worker
 * processes with the same concurrency, a unique queue name, obliterated at the end. Jobs are
 * kept after completion (BullMQ's default), as the platform keeps its records.
 *
 * With `durability`, BullMQ gets a private Redis with the append-only file on (`everysec`: a
 * second of writes may be lost in a crash; `always`: fsync before every reply, what the
 * platform's confirmed persistent messages pay for); its CPU is reported as `redis`.
 */
import { randomUUID } from 'node:crypto';
import { PrivateRedis } from '@tasks/runtime/testing';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { baseEnv, benchEntry, ProcessGroup } from '../support/child';
import type { Probe } from '../support/observer';
import type { SystemOptions, TaskSystem } from './system';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** BullMQ's Redis persisting every write to its append-only file, fsynced as named. */
export type BullDurability = 'everysec' | 'always';

export interface BullOptions extends SystemOptions {
  /** A private Redis with `appendonly yes` and this `appendfsync`; default the shared Redis. */
  readonly durability?: BullDurability;
}

function privateRedis(durability: BullDurability): Promise<PrivateRedis> {
  return PrivateRedis.start({
    extraArgs: ['--appendonly', 'yes', '--appendfsync', durability],
  });
}

export class BullSystem implements TaskSystem {
  readonly key = 'bullmq' as const;
  httpUrl: string | undefined;
  readonly probe: Probe;
  private readonly group: ProcessGroup;

  private constructor(
    readonly name: string,
    readonly queue: Queue,
    private readonly connection: Redis,
    env: Record<string, string>,
    private readonly server: PrivateRedis | undefined,
  ) {
    this.group = new ProcessGroup(env);
    this.probe = {
      key: (id) => `bull:${name}:${id}`,
      fields: ['finishedOn', 'returnvalue'],
      done: (finishedOn) => finishedOn !== null,
    };
  }

  static async start(options: BullOptions): Promise<BullSystem> {
    const name = `bench-${randomUUID().slice(0, 8)}`;
    const server = options.durability ? await privateRedis(options.durability) : undefined;
    const redisUrl = server?.url ?? REDIS_URL;
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const queue = new Queue(name, { connection });
    await queue.waitUntilReady();
    const env: Record<string, string> = {
      ...baseEnv(),
      REDIS_URL: redisUrl,
      BULL_QUEUE: name,
      BULL_CONCURRENCY: String(options.concurrency),
      BULL_HANDLER_MS: String(options.handlerMs ?? 0),
      FRONT_BACKEND: 'bullmq',
    };
    const system = new BullSystem(name, queue, connection, env, server);
    try {
      await Promise.all([
        ...Array.from({ length: options.workers ?? 1 }, () => system.addWorker()),
        options.http
          ? system.spawn('gateway', 'http-front', 'listening').then((line) => {
              system.httpUrl = String(line.url);
            })
          : undefined,
      ]);
    } catch (err) {
      await system.close();
      throw err;
    }
    return system;
  }

  private spawn(label: string, entry: string, ready: string): Promise<Record<string, unknown>> {
    return this.group.start(label, benchEntry(entry), ready);
  }

  async submit(): Promise<string> {
    const job = await this.queue.add('process', { data: { records: 1 } });
    return String(job.id);
  }

  successes(): Promise<number> {
    return this.queue.getCompletedCount();
  }

  async isDone(id: string): Promise<boolean> {
    return (await this.connection.hget(`bull:${this.name}:${id}`, 'finishedOn')) !== null;
  }

  processes(): Record<string, number> {
    const pids = this.group.pids();
    return this.server?.pid ? { ...pids, redis: this.server.pid } : pids;
  }

  async addWorker(): Promise<void> {
    await this.spawn(this.group.nextWorkerLabel(), 'bullmq-worker', 'ready');
  }

  keepWorkers(count: number): Promise<void> {
    return this.group.keepWorkers(count);
  }

  async close(): Promise<void> {
    await this.group.stopAll();
    await this.queue.obliterate({ force: true }).catch(() => undefined);
    await this.queue.close();
    await this.connection.quit().catch(() => undefined);
    await this.server?.stop();
  }
}

/**
 * The raw floor (the benchmark's reference): our exact path written with nothing but amqplib and
 * ioredis, with the same durability — persistent messages, publisher confirms, manual acks,
 * a Lua write per state — and none of the platform's machinery (no schema validation, no
 * reconnection, no batching, no ordering rule, no logging). Each state event is its own message,
 * acked on its own: the "per-message floor" the platform's batching must beat.
 *
 * Path of one task: producer writes PENDING (Lua) → publishes the command (persistent, awaits its
 * confirm) → raw-worker (prefetch N) checks the revocation key, publishes STARTED and SUCCESS as
 * two persistent messages, acks the command once both are confirmed → raw-store writes each
 * event with one Lua call and acks it. Queues and exchanges are the platform's own topology
 * (same queue arguments, including the work queue's priority levels), under a fresh prefix.
 */
import { randomUUID } from 'node:crypto';
import { DATA_PROCESS, TopologyNames } from '@tasks/contracts';
import * as amqplib from 'amqplib';
import Redis from 'ioredis';

/** HSET the fields, EXPIRE the record, count a terminal state: the floor's whole write. */
export const RAW_WRITE_LUA = `
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[1])
if ARGV[2] == '1' then redis.call('HINCRBY', KEYS[2], ARGV[3], 1) end
return 1
`;

export const RESULT_TTL_S = 3600;

/** Settings every raw process reads from its environment. */
export interface RawEnv {
  readonly amqpUrl: string;
  readonly redisUrl: string;
  readonly amqpPrefix: string;
  readonly redisPrefix: string;
}

export function rawEnv(env: NodeJS.ProcessEnv = process.env): RawEnv {
  return {
    amqpUrl: env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    amqpPrefix: env.AMQP_PREFIX ?? '',
    redisPrefix: env.REDIS_PREFIX ?? 'raw:',
  };
}

export class RawKeys {
  constructor(readonly prefix: string) {}
  task(id: string): string {
    return `${this.prefix}task:${id}`;
  }
  revoked(id: string): string {
    return `${this.prefix}revoked:${id}`;
  }
  /** Hash of terminal-state counters (field = state). */
  get stats(): string {
    return `${this.prefix}stats`;
  }
}

type RawWrite = (
  taskKey: string,
  statsKey: string,
  ttlS: string,
  terminal: string,
  state: string,
  ...fields: string[]
) => Promise<number>;

/** A Redis client with the floor's Lua write defined on it. */
export function rawRedis(url: string): Redis & { rawWrite: RawWrite } {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.defineCommand('rawWrite', { numberOfKeys: 2, lua: RAW_WRITE_LUA });
  return redis as Redis & { rawWrite: RawWrite };
}

/** Publishes on a confirm channel and resolves on the broker's confirm. */
export function publishConfirmed(
  channel: amqplib.ConfirmChannel,
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: amqplib.Options.Publish,
): Promise<void> {
  return new Promise((resolve, reject) => {
    channel.publish(exchange, routingKey, content, options, (err) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
    );
  });
}

/** The floor's producer: PENDING in Redis, then the confirmed persistent command. */
export class RawProducer {
  readonly names: TopologyNames;
  readonly keys: RawKeys;

  private constructor(
    private readonly connection: amqplib.ChannelModel,
    private readonly channel: amqplib.ConfirmChannel,
    readonly redis: Redis & { rawWrite: RawWrite },
    env: RawEnv,
  ) {
    this.names = new TopologyNames(env.amqpPrefix);
    this.keys = new RawKeys(env.redisPrefix);
  }

  static async open(env: RawEnv): Promise<RawProducer> {
    const connection = await amqplib.connect(env.amqpUrl);
    const channel = await connection.createConfirmChannel();
    return new RawProducer(connection, channel, rawRedis(env.redisUrl), env);
  }

  /** Resolves with the new task's id once the broker confirmed its command. */
  async submit(payload: Record<string, unknown> = { data: { records: 1 } }): Promise<string> {
    const id = randomUUID();
    const at = new Date().toISOString();
    await this.redis.rawWrite(
      this.keys.task(id),
      this.keys.stats,
      String(RESULT_TTL_S),
      '0',
      'PENDING',
      'task_id',
      id,
      'state',
      'PENDING',
      'type',
      DATA_PROCESS,
      'created_at',
      at,
      'updated_at',
      at,
    );
    const command = { v: 1, task_id: id, type: DATA_PROCESS, payload, priority: 0, created_at: at };
    await publishConfirmed(
      this.channel,
      this.names.tasksExchange,
      DATA_PROCESS,
      Buffer.from(JSON.stringify(command)),
      {
        persistent: true,
        contentType: 'application/json',
        messageId: id,
        type: DATA_PROCESS,
        priority: 0,
        timestamp: Math.floor(Date.now() / 1000),
        headers: { 'x-attempt': 1 },
      },
    );
    return id;
  }

  /** The stored record, or undefined. */
  async get(id: string): Promise<Record<string, string> | undefined> {
    const hash = await this.redis.hgetall(this.keys.task(id));
    return hash.state ? hash : undefined;
  }

  async close(): Promise<void> {
    await this.channel.close().catch(() => undefined);
    await this.connection.close().catch(() => undefined);
    await this.redis.quit().catch(() => undefined);
  }
}

/**
 * The index of parked commands behind the dead-letter API (list, replay, drop). The broker's
 * `<service>.dead` queues keep the durable copy for inspection in the management UI (they expire
 * after DEAD_LETTER_TTL_MS); this index holds what replay needs: the original bytes, headers and
 * routing key, and why the command was parked.
 */
import type { Redis } from '../redis/redis-client';
import { RedisKeys } from './redis-keys';

export interface DeadLetter {
  readonly task_id: string;
  readonly service: string;
  /** The command routing key, when readable. */
  readonly type: string | null;
  readonly reason: string;
  readonly parked_at: string;
  readonly parked_by: string;
  readonly attempt: number;
  readonly priority: number;
  /** The original message body, UTF-8 (commands are JSON). */
  readonly content: string;
  readonly headers: Record<string, unknown>;
}

/** Index entries are kept as long as the parking queues keep their copies. */
const INDEX_TTL_S = 14 * 86_400;

export class DeadLetterStore {
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  async record(entry: DeadLetter): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.deadLetters, entry.task_id, JSON.stringify(entry))
      .zadd(this.keys.deadLetterIndex, Date.parse(entry.parked_at), entry.task_id)
      .expire(this.keys.deadLetters, INDEX_TTL_S)
      .expire(this.keys.deadLetterIndex, INDEX_TTL_S)
      .exec();
  }

  async get(taskId: string): Promise<DeadLetter | undefined> {
    const raw = await this.redis.hget(this.keys.deadLetters, taskId);
    return raw ? (JSON.parse(raw) as DeadLetter) : undefined;
  }

  /** Newest first. */
  async list(limit = 100, offset = 0): Promise<{ total: number; items: DeadLetter[] }> {
    const [total, ids] = await Promise.all([
      this.redis.zcard(this.keys.deadLetterIndex),
      this.redis.zrevrange(this.keys.deadLetterIndex, offset, offset + limit - 1),
    ]);
    if (ids.length === 0) return { total, items: [] };
    const raws = await this.redis.hmget(this.keys.deadLetters, ...ids);
    const items = raws.flatMap((raw) => (raw ? [JSON.parse(raw) as DeadLetter] : []));
    return { total, items };
  }

  /** True when an entry was removed. */
  async remove(taskId: string): Promise<boolean> {
    const [[, removed]] = (await this.redis
      .multi()
      .hdel(this.keys.deadLetters, taskId)
      .zrem(this.keys.deadLetterIndex, taskId)
      .exec()) as [[Error | null, number], ...unknown[]];
    return removed === 1;
  }

  /** Drops entries parked before `beforeMs`; returns how many. */
  async removeOlderThan(beforeMs: number): Promise<number> {
    const ids = await this.redis.zrangebyscore(this.keys.deadLetterIndex, 0, beforeMs);
    if (ids.length === 0) return 0;
    await this.redis
      .multi()
      .hdel(this.keys.deadLetters, ...ids)
      .zrem(this.keys.deadLetterIndex, ...ids)
      .exec();
    return ids.length;
  }
}

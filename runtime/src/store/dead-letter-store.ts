/**
 * The index of parked commands behind the dead-letter API (list, replay, drop). The broker's
 * `<service>.dead` queues keep the durable copy for inspection in the management UI (they expire
 * after DEAD_LETTER_TTL_MS); this index holds what replay needs: the original bytes, headers and
 * routing key, and why the command was parked.
 *
 * Each service records its dead letters under its own keys, and its Redis user may write those
 * only (deploy/make-secrets.js): what one service parks can never pass for another's. Readers
 * (the gateway, the cleanup task) see every service's, and the shared keys of earlier versions
 * until they expire.
 */
import { WORKER_SERVICES } from '@tasks/contracts';
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

/** One service's pair of keys: entries by task id, and task ids by time parked. */
interface DeadLetterKeys {
  /** The service whose keys these are; undefined for the shared keys of earlier versions. */
  readonly service: string | undefined;
  readonly entries: string;
  readonly index: string;
}

export class DeadLetterStore {
  private readonly keys: RedisKeys;
  private readonly sources: readonly DeadLetterKeys[];

  constructor(
    private readonly redis: Redis,
    prefix: string,
    services: readonly string[] = WORKER_SERVICES,
  ) {
    this.keys = new RedisKeys(prefix);
    this.sources = [
      ...services.map((service) => ({
        service,
        entries: this.keys.deadLettersOf(service),
        index: this.keys.deadLetterIndexOf(service),
      })),
      {
        service: undefined,
        entries: this.keys.legacyDeadLetters,
        index: this.keys.legacyDeadLetterIndex,
      },
    ];
  }

  /** Records under `entry.service`'s keys (the only ones its Redis user may write). */
  async record(entry: DeadLetter): Promise<void> {
    const entries = this.keys.deadLettersOf(entry.service);
    const index = this.keys.deadLetterIndexOf(entry.service);
    await this.redis
      .multi()
      .hset(entries, entry.task_id, JSON.stringify(entry))
      .zadd(index, Date.parse(entry.parked_at), entry.task_id)
      .expire(entries, INDEX_TTL_S)
      .expire(index, INDEX_TTL_S)
      .exec();
  }

  /**
   * The entry of a task and the service whose keys hold it (undefined: the shared keys of
   * earlier versions); the newest when several hold one.
   */
  async find(
    taskId: string,
  ): Promise<{ entry: DeadLetter; storedBy: string | undefined } | undefined> {
    const pipeline = this.redis.pipeline();
    for (const source of this.sources) pipeline.hget(source.entries, taskId);
    const replies = (await pipeline.exec()) ?? [];
    let found: { entry: DeadLetter; storedBy: string | undefined } | undefined;
    replies.forEach(([err, raw], i) => {
      if (err) throw err;
      if (typeof raw !== 'string') return;
      const entry = JSON.parse(raw) as DeadLetter;
      if (!found || entry.parked_at > found.entry.parked_at) {
        found = { entry, storedBy: this.sources[i]?.service };
      }
    });
    return found;
  }

  async get(taskId: string): Promise<DeadLetter | undefined> {
    return (await this.find(taskId))?.entry;
  }

  /** Newest first, across every service. */
  async list(limit = 100, offset = 0): Promise<{ total: number; items: DeadLetter[] }> {
    const pipeline = this.redis.pipeline();
    for (const source of this.sources) {
      pipeline.zcard(source.index);
      pipeline.zrevrange(source.index, 0, offset + limit - 1, 'WITHSCORES');
    }
    const replies = (await pipeline.exec()) ?? [];
    let total = 0;
    const newest: { source: DeadLetterKeys; id: string; score: number }[] = [];
    this.sources.forEach((source, i) => {
      const [countErr, count] = replies[2 * i] ?? [null, 0];
      const [rangeErr, range] = replies[2 * i + 1] ?? [null, []];
      if (countErr) throw countErr;
      if (rangeErr) throw rangeErr;
      total += Number(count);
      const flat = range as string[];
      for (let j = 0; j + 1 < flat.length; j += 2) {
        newest.push({ source, id: flat[j] ?? '', score: Number(flat[j + 1]) });
      }
    });
    const page = newest.sort((a, b) => b.score - a.score).slice(offset, offset + limit);
    if (page.length === 0) return { total, items: [] };
    const reads = this.redis.pipeline();
    for (const { source, id } of page) reads.hget(source.entries, id);
    const raws = (await reads.exec()) ?? [];
    const items = raws.flatMap(([err, raw]) => {
      if (err) throw err;
      return typeof raw === 'string' ? [JSON.parse(raw) as DeadLetter] : [];
    });
    return { total, items };
  }

  /** True when an entry was removed. */
  async remove(taskId: string): Promise<boolean> {
    const multi = this.redis.multi();
    for (const source of this.sources) {
      multi.hdel(source.entries, taskId).zrem(source.index, taskId);
    }
    const replies = ((await multi.exec()) ?? []) as [Error | null, number][];
    return replies.some(([, removed], i) => i % 2 === 0 && removed === 1);
  }

  /** Drops entries parked before `beforeMs`; returns how many. */
  async removeOlderThan(beforeMs: number): Promise<number> {
    let removed = 0;
    for (const source of this.sources) {
      const ids = await this.redis.zrangebyscore(source.index, 0, beforeMs);
      if (ids.length === 0) continue;
      await this.redis
        .multi()
        .hdel(source.entries, ...ids)
        .zrem(source.index, ...ids)
        .exec();
      removed += ids.length;
    }
    return removed;
  }
}

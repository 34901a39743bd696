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
import { randomUUID } from 'node:crypto';
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

/** What claiming a dead letter for a replay found. */
export type ReplayClaim =
  | {
      readonly kind: 'claimed';
      readonly entry: DeadLetter;
      /** The service whose keys hold the entry; undefined for the shared keys of earlier versions. */
      readonly storedBy: string | undefined;
      readonly token: string;
    }
  | { readonly kind: 'missing' }
  /** Another replay holds it. */
  | { readonly kind: 'busy' };

/**
 * KEYS: the claim key, then each source's dead letters hash. ARGV: task id, token, claim
 * lifetime (ms). Returns {0} (no entry), {1} (claimed by another replay) or {2}: claimed.
 */
const CLAIM_REPLAY_LUA = `
local found = false
for i = 2, #KEYS do
  if redis.call('HEXISTS', KEYS[i], ARGV[1]) == 1 then found = true end
end
if not found then return {0} end
if not redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then return {1} end
return {2}
`;

/**
 * KEYS: the claim key, then each source's hash and index in pairs. ARGV: task id, token, '1' to
 * remove the entry. Drops the claim if it is still this token's; with '1', removes the entry from
 * every source too.
 */
const END_REPLAY_LUA = `
if ARGV[3] == '1' then
  for i = 2, #KEYS, 2 do
    redis.call('HDEL', KEYS[i], ARGV[1])
    redis.call('ZREM', KEYS[i + 1], ARGV[1])
  end
end
if redis.call('GET', KEYS[1]) == ARGV[2] then redis.call('DEL', KEYS[1]) end
return 1
`;

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

  /**
   * Claims a dead letter for one replay, atomically: of replays racing for it, one gets the
   * entry, the others `busy`. The claim lapses after `ttlMs` (a replayer that died), so it
   * must outlast a publish's confirm timeout.
   */
  async claimReplay(taskId: string, ttlMs: number): Promise<ReplayClaim> {
    const token = randomUUID();
    const reply = (await this.redis.eval(
      CLAIM_REPLAY_LUA,
      1 + this.sources.length,
      this.keys.deadLetterReplay(taskId),
      ...this.sources.map((source) => source.entries),
      taskId,
      token,
      String(ttlMs),
    )) as [number];
    if (reply[0] === 0) return { kind: 'missing' };
    if (reply[0] === 1) return { kind: 'busy' };
    // Read under the claim: no other replay can take or remove the entry meanwhile.
    const found = await this.find(taskId);
    if (!found) {
      await this.releaseReplay(taskId, token);
      return { kind: 'missing' };
    }
    return { kind: 'claimed', entry: found.entry, storedBy: found.storedBy, token };
  }

  /** The replay's command was confirmed: removes the entry and the claim. */
  async completeReplay(taskId: string, token: string): Promise<void> {
    await this.endReplay(taskId, token, true);
  }

  /** The replay did not publish: drops the claim, the entry stays replayable. */
  async releaseReplay(taskId: string, token: string): Promise<void> {
    await this.endReplay(taskId, token, false);
  }

  private async endReplay(taskId: string, token: string, remove: boolean): Promise<void> {
    await this.redis.eval(
      END_REPLAY_LUA,
      1 + 2 * this.sources.length,
      this.keys.deadLetterReplay(taskId),
      ...this.sources.flatMap((source) => [source.entries, source.index]),
      taskId,
      token,
      remove ? '1' : '0',
    );
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

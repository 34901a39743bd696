/**
 * The index of parked commands behind the dead-letter API (list, replay, drop). The broker's
 * `<service>.dead` queues keep the durable copy for inspection in the management UI (they expire
 * after DEAD_LETTER_TTL_MS); this index holds what replay needs: the original bytes, headers and
 * routing key, and why the command was parked.
 */
import { randomUUID } from 'node:crypto';
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
  | { readonly kind: 'claimed'; readonly entry: DeadLetter; readonly token: string }
  | { readonly kind: 'missing' }
  /** Another replay holds it. */
  | { readonly kind: 'busy' };

/**
 * KEYS: dead letters hash, the claim key. ARGV: task id, token, claim lifetime (ms).
 * Returns {0} (no entry), {1} (claimed by another replay) or {2, entry}.
 */
const CLAIM_REPLAY_LUA = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {0} end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return {1} end
return {2, raw}
`;

/**
 * KEYS: dead letters hash, index, claim key. ARGV: task id, token, '1' to remove the entry.
 * Drops the claim if it is still this token's; with '1', removes the entry too.
 */
const END_REPLAY_LUA = `
if ARGV[3] == '1' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
if redis.call('GET', KEYS[3]) == ARGV[2] then redis.call('DEL', KEYS[3]) end
return 1
`;

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

  /**
   * Claims a dead letter for one replay, atomically: of replays racing for it, one gets the
   * entry, the others `busy`. The claim lapses after `ttlMs` (a replayer that died), so it
   * must outlast a publish's confirm timeout.
   */
  async claimReplay(taskId: string, ttlMs: number): Promise<ReplayClaim> {
    const token = randomUUID();
    const reply = (await this.redis.eval(
      CLAIM_REPLAY_LUA,
      2,
      this.keys.deadLetters,
      this.keys.deadLetterReplay(taskId),
      taskId,
      token,
      String(ttlMs),
    )) as [number, string?];
    if (reply[0] === 0) return { kind: 'missing' };
    if (reply[0] === 1) return { kind: 'busy' };
    return { kind: 'claimed', entry: JSON.parse(reply[1] as string) as DeadLetter, token };
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
      3,
      this.keys.deadLetters,
      this.keys.deadLetterIndex,
      this.keys.deadLetterReplay(taskId),
      taskId,
      token,
      remove ? '1' : '0',
    );
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

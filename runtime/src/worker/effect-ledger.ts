/**
 * Makes a side effect idempotent on the task id: reserve `effect:<kind>:<task id>`
 * with SET NX and a short TTL before the effect, mark it done with the result after. A
 * redelivered, retried or replayed task that finds "done" returns the stored result and does
 * nothing. Only a crash between the effect and `markDone` can repeat the effect, once the
 * reservation expired.
 */
import { DeferError } from '../errors';
import type { Redis } from '../redis/redis-client';
import type { RedisKeys } from '../store/redis-keys';

export interface EffectLedgerOptions {
  /** Effect kind in the key, e.g. `email`. */
  readonly kind: string;
  /** How long a reservation blocks other attempts; longer than one effect may take. */
  readonly reservationTtlS: number;
  /** How long the "done" record (and its result) is kept. */
  readonly doneTtlS: number;
}

type Entry<R> = { state: 'reserved'; at: string } | { state: 'done'; at: string; result: R };

export type Reservation<R> =
  { readonly state: 'reserved' } | { readonly state: 'done'; readonly result: R };

export class EffectLedger<R> {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly options: EffectLedgerOptions,
  ) {}

  /**
   * Reserves the effect for this attempt, or returns the result of the attempt that did it.
   *
   * @throws DeferError while another attempt holds a live reservation (retried later without
   *   counting an attempt)
   */
  async reserve(taskId: string): Promise<Reservation<R>> {
    const key = this.keys.effect(this.options.kind, taskId);
    const entry: Entry<R> = { state: 'reserved', at: new Date().toISOString() };
    const set = await this.redis.set(
      key,
      JSON.stringify(entry),
      'EX',
      this.options.reservationTtlS,
      'NX',
    );
    if (set === 'OK') return { state: 'reserved' };
    const raw = await this.redis.get(key);
    if (!raw) return this.reserve(taskId);
    const existing = JSON.parse(raw) as Entry<R>;
    if (existing.state === 'done') return { state: 'done', result: existing.result };
    const ttlMs = await this.redis.pttl(key);
    throw new DeferError(
      `another attempt is performing the ${this.options.kind} effect`,
      Math.max(ttlMs, 100),
    );
  }

  /** Records the effect as done, with its result. */
  async markDone(taskId: string, result: R): Promise<void> {
    const entry: Entry<R> = { state: 'done', at: new Date().toISOString(), result };
    await this.redis.set(
      this.keys.effect(this.options.kind, taskId),
      JSON.stringify(entry),
      'EX',
      this.options.doneTtlS,
    );
  }

  /**
   * Keeps a live reservation for another `reservationTtlS` (its holder still works on the
   * effect, e.g. retrying `markDone`); a "done" entry is left as it is. True when extended.
   */
  async extend(taskId: string): Promise<boolean> {
    const key = this.keys.effect(this.options.kind, taskId);
    const raw = await this.redis.get(key);
    if (!raw || (JSON.parse(raw) as Entry<R>).state !== 'reserved') return false;
    return (await this.redis.expire(key, this.options.reservationTtlS)) === 1;
  }

  /** Gives a reservation up when the effect surely did not happen, so a retry need not wait. */
  async release(taskId: string): Promise<void> {
    const key = this.keys.effect(this.options.kind, taskId);
    const raw = await this.redis.get(key);
    if (raw && (JSON.parse(raw) as Entry<R>).state === 'reserved') await this.redis.del(key);
  }
}

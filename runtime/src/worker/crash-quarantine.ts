/**
 * Crash quarantine: a crash loop is charged to the task that causes it, not to the tasks that
 * happened to run beside it.
 *
 * A worker that dies takes every task it was running with it, and the broker redelivers them all
 * flagged alike, so a redelivery alone says nothing about guilt. A task seen before runs again as
 * usual the first time (most deaths are one-off: a deploy's SIGKILL, a node lost). One that comes
 * back again (`QUARANTINE_AFTER` redeliveries) runs alone: no other handler runs in the process
 * until it ends. Only such a lone run is charged, when it starts, and discharged when it ends in
 * this process, whatever its outcome (a drain that hands it back, a cut connection, a consumer
 * timeout: none is a crash). What stays charged is a process that died under it. Past
 * MAX_DELIVERIES charges, the task is parked.
 */
import type { Redis } from '../redis/redis-client';
import type { RedisKeys } from '../store/redis-keys';

/** Redeliveries of one attempt after which it runs alone. */
export const QUARANTINE_AFTER = 2;
/** How long the counters of an attempt are kept. */
const COUNTER_TTL_S = 86_400;

export class CrashQuarantine {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Counts one redelivery of an attempt; returns how many there were. */
  async countRedelivery(taskId: string, attempt: number): Promise<number> {
    return this.incr(this.keys.deliveries(taskId, attempt));
  }

  /** Charges a lone run as it starts; returns the charges, this one included. */
  async charge(taskId: string, attempt: number): Promise<number> {
    return this.incr(this.keys.crashes(taskId, attempt));
  }

  /** Takes a lone run's charge back: it ended in this process. */
  async discharge(taskId: string, attempt: number): Promise<void> {
    await this.redis.decr(this.keys.crashes(taskId, attempt));
  }

  private async incr(key: string): Promise<number> {
    const [[, count]] = (await this.redis.multi().incr(key).expire(key, COUNTER_TTL_S).exec()) as [
      [Error | null, number],
      ...unknown[],
    ];
    return count;
  }
}

import type { Redis } from '../redis/redis-client';
import { TickBatcher } from '../redis/tick-batcher';
import type { RedisKeys } from './redis-keys';

/**
 * Which tasks are revoked: a key per task, with a lifetime, so a worker skips a revoked task
 * on delivery, across restarts. (Revoking together with the record's REVOKED is
 * TaskStore.revokeRecord: one atomic step over both.)
 */
export class Revocations {
  /** Checks of one callback (a worker starting a command batch): one MGET. */
  private readonly checks = new TickBatcher<string, boolean>(async (taskIds) => {
    const values = await this.redis.mget(taskIds.map((id) => this.keys.revoked(id)));
    return values.map((value) => value !== null);
  }, queueMicrotask);

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Marks a task revoked for `ttlS` seconds. */
  async revoke(taskId: string, ttlS: number): Promise<void> {
    await this.redis.set(this.keys.revoked(taskId), '1', 'EX', ttlS);
  }

  /** Whether the task is revoked; the checks of one callback share one MGET. */
  isRevoked(taskId: string): Promise<boolean> {
    return this.checks.call(taskId);
  }
}

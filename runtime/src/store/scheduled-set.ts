import type { Redis } from '../redis/redis-client';
import type { RedisKeys } from './redis-keys';

/** A task due later, and when. */
export interface ScheduledTask {
  readonly taskId: string;
  readonly dueAtMs: number;
}

/**
 * The tasks waiting for a countdown, an eta or a retry, scored by when they are due. The
 * record scripts add and remove entries as events arrive; this reads the set and prunes it.
 */
export class ScheduledSet {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Task ids due later, soonest first, with their due time. */
  async list(limit = 1000): Promise<ScheduledTask[]> {
    const flat = await this.redis.zrange(this.keys.scheduled, 0, limit - 1, 'WITHSCORES');
    const out: ScheduledTask[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      out.push({ taskId: flat[i] as string, dueAtMs: Number(flat[i + 1]) });
    }
    return out;
  }

  /** Drops entries whose records expired. */
  async remove(taskIds: readonly string[]): Promise<void> {
    if (taskIds.length > 0) await this.redis.zrem(this.keys.scheduled, ...taskIds);
  }
}

import type { Redis } from '../redis/redis-client';
import type { RedisKeys } from './redis-keys';
import { type DayStats, parseDayStats } from './report-stats';

/**
 * The daily statistics the record scripts count as events arrive (report-stats.ts says what):
 * read here, for reports.
 */
export class TaskStats {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Everything counted on the given days (`YYYY-MM-DD`). */
  async days(days: readonly string[]): Promise<Map<string, DayStats>> {
    const pipeline = this.redis.pipeline();
    for (const day of days) pipeline.hgetall(this.keys.statsDay(day));
    const replies = (await pipeline.exec()) ?? [];
    const out = new Map<string, DayStats>();
    days.forEach((day, i) => {
      const [err, hash] = replies[i] ?? [null, {}];
      if (err) throw err;
      out.set(day, parseDayStats((hash ?? {}) as Record<string, string>));
    });
    return out;
  }
}

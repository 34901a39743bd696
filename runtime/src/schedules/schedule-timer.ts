/**
 * When a schedule is due. `cron` (5 or 6 fields, `@hourly`-style aliases) in its IANA time zone,
 * computed by croner; `every` as multiples of the interval since the Unix epoch, so every instance
 * and every restart agrees on the due times.
 *
 * DST (croner's behaviour, tested): a time that a spring-forward skips fires once, when the gap
 * ends (02:30 in New York on the March change fires at 03:00 EDT); a time that a fall-back repeats
 * fires once.
 */
import type { ScheduleSpec } from '@tasks/contracts';
import { Cron } from 'croner';

/** Longer intervals would overflow the Date range after a few steps. */
const MAX_INTERVAL_MS = 366 * 86_400_000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Milliseconds of an `every` value (`30s`, `5m`, `1h`, `1d`, or a number of ms); throws for a
 * malformed value or one below 1 s.
 */
export function intervalMs(every: string | number): number {
  let ms = every;
  if (typeof every === 'string') {
    const match = /^(\d+)(ms|s|m|h|d)$/.exec(every);
    if (!match) throw new Error(`invalid interval "${every}"`);
    ms = Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] ?? 1);
  }
  // As the numeric form's minimum; `0s` would make every due time an Invalid Date.
  if (Number(ms) < 1000) throw new Error(`interval "${every}" is shorter than 1s`);
  if (Number(ms) > MAX_INTERVAL_MS) throw new Error(`interval "${every}" is longer than 366d`);
  return Number(ms);
}

export class ScheduleTimer {
  private readonly cron: Cron | undefined;
  private readonly everyMs: number | undefined;

  constructor(spec: Pick<ScheduleSpec, 'cron' | 'every' | 'timezone'>) {
    if (spec.cron !== undefined) {
      this.cron = new Cron(spec.cron, { timezone: spec.timezone, paused: true });
    } else if (spec.every !== undefined) {
      this.everyMs = intervalMs(spec.every);
    } else {
      throw new Error('a schedule needs cron or every');
    }
  }

  /** The first due time strictly after `after`, or null when there is none. */
  next(after: Date): Date | null {
    if (this.cron) return this.cron.nextRun(after);
    const every = this.everyMs as number;
    return new Date((Math.floor(after.getTime() / every) + 1) * every);
  }

  /**
   * Due times in (from, to], oldest first, at most `limit` (the newest ones are kept). Counted
   * back from `to`, so the cost is `limit` steps however long the gap: a per-second schedule
   * after a week down does not walk 600 000 due times on its first tick.
   */
  dueBetween(from: Date, to: Date, limit: number): Date[] {
    if (limit < 1 || to.getTime() <= from.getTime()) return [];
    const newestFirst = this.cron
      ? // previousRuns counts runs before its reference; +1 ms makes `to` itself one of them.
        this.cron.previousRuns(limit, new Date(to.getTime() + 1))
      : this.everyBackFrom(to, limit);
    return newestFirst.filter((d) => d.getTime() > from.getTime()).reverse();
  }

  private everyBackFrom(to: Date, limit: number): Date[] {
    const every = this.everyMs as number;
    const newest = Math.floor(to.getTime() / every) * every;
    return Array.from({ length: limit }, (_, i) => new Date(newest - i * every));
  }
}

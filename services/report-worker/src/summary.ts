/**
 * What a report says, computed from the status-store's day statistics (pure; both the PDF and
 * the CSV are drawn from it): per task type its counts, success rate, retries, p50/p95 run time
 * and top errors over the period, and per day the tasks that ended in each state.
 */
import { bucketUpperMs, type DayStats } from '@tasks/runtime/handler';

/** The states a day is counted by: the terminal ones, and RETRY (one per retry). */
export const CHART_STATES = ['SUCCESS', 'FAILURE', 'REVOKED', 'RETRY'] as const;
export type ChartState = (typeof CHART_STATES)[number];

export interface TypeSummary {
  readonly taskType: string;
  /** Tasks that ended: succeeded + failed + revoked. */
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly revoked: number;
  readonly retries: number;
  /** succeeded / (succeeded + failed); null when none of the two. */
  readonly successRate: number | null;
  /** Run time of the last attempt of finished runs (SUCCESS and FAILURE), from the buckets. */
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly topErrors: readonly { readonly error: string; readonly count: number }[];
  readonly recordsProcessed: number;
}

export interface DaySummary {
  readonly day: string;
  readonly counts: Readonly<Record<ChartState, number>>;
  readonly recordsProcessed: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
}

export interface ReportSummary {
  readonly types: readonly TypeSummary[];
  readonly days: readonly DaySummary[];
  readonly totals: Readonly<Record<ChartState, number>> & { readonly recordsProcessed: number };
}

const TOP_ERRORS = 3;
const TIMED_STATES = ['SUCCESS', 'FAILURE'];

type Buckets = Record<number, number>;

function addBuckets(into: Map<number, number>, buckets: Buckets | undefined): void {
  for (const [bucket, count] of Object.entries(buckets ?? {})) {
    into.set(Number(bucket), (into.get(Number(bucket)) ?? 0) + count);
  }
}

/**
 * The `q` quantile (0-1) of the runs in `buckets`, as the upper bound of the bucket it falls in
 * (at most 19 % above the true value), rounded to the millisecond; null without runs.
 */
export function percentileMs(buckets: ReadonlyMap<number, number>, q: number): number | null {
  const total = [...buckets.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const bucket of [...buckets.keys()].sort((a, b) => a - b)) {
    seen += buckets.get(bucket) ?? 0;
    if (seen >= rank) return Math.round(bucketUpperMs(bucket));
  }
  return null;
}

const zeroCounts = (): Record<ChartState, number> => ({
  SUCCESS: 0,
  FAILURE: 0,
  REVOKED: 0,
  RETRY: 0,
});

/**
 * Summarises `stats` (day → statistics, in day order), keeping the task types `include` accepts.
 */
export function summarise(
  stats: ReadonlyMap<string, DayStats>,
  include: (taskType: string) => boolean = () => true,
): ReportSummary {
  const perType = new Map<
    string,
    {
      counts: Record<ChartState, number>;
      buckets: Map<number, number>;
      errors: Map<string, number>;
      records: number;
    }
  >();
  const days: DaySummary[] = [];
  const totals = { ...zeroCounts(), recordsProcessed: 0 };

  for (const [day, dayStats] of stats) {
    const dayCounts = zeroCounts();
    const dayBuckets = new Map<number, number>();
    let dayRecords = 0;
    const types = new Set([
      ...Object.keys(dayStats.counts),
      ...Object.keys(dayStats.durations),
      ...Object.keys(dayStats.errors),
      ...Object.keys(dayStats.records),
    ]);
    for (const taskType of types) {
      if (!include(taskType)) continue;
      let entry = perType.get(taskType);
      if (!entry) {
        entry = { counts: zeroCounts(), buckets: new Map(), errors: new Map(), records: 0 };
        perType.set(taskType, entry);
      }
      for (const state of CHART_STATES) {
        const n = dayStats.counts[taskType]?.[state] ?? 0;
        entry.counts[state] += n;
        dayCounts[state] += n;
        totals[state] += n;
      }
      for (const state of TIMED_STATES) {
        addBuckets(entry.buckets, dayStats.durations[taskType]?.[state]);
        addBuckets(dayBuckets, dayStats.durations[taskType]?.[state]);
      }
      for (const [error, n] of Object.entries(dayStats.errors[taskType] ?? {})) {
        entry.errors.set(error, (entry.errors.get(error) ?? 0) + n);
      }
      const records = dayStats.records[taskType] ?? 0;
      entry.records += records;
      dayRecords += records;
      totals.recordsProcessed += records;
    }
    days.push({
      day,
      counts: dayCounts,
      recordsProcessed: dayRecords,
      p50Ms: percentileMs(dayBuckets, 0.5),
      p95Ms: percentileMs(dayBuckets, 0.95),
    });
  }

  const types: TypeSummary[] = [...perType.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([taskType, entry]) => {
      const {
        SUCCESS: succeeded,
        FAILURE: failed,
        REVOKED: revoked,
        RETRY: retries,
      } = entry.counts;
      return {
        taskType,
        total: succeeded + failed + revoked,
        succeeded,
        failed,
        revoked,
        retries,
        successRate: succeeded + failed > 0 ? succeeded / (succeeded + failed) : null,
        p50Ms: percentileMs(entry.buckets, 0.5),
        p95Ms: percentileMs(entry.buckets, 0.95),
        topErrors: [...entry.errors.entries()]
          .sort(([ea, a], [eb, b]) => b - a || ea.localeCompare(eb))
          .slice(0, TOP_ERRORS)
          .map(([error, count]) => ({ error, count })),
        recordsProcessed: entry.records,
      };
    });
  return { types, days, totals };
}

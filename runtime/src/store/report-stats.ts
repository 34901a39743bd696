/**
 * Report statistics beyond the per-day `<type>|<state>` counters: run-time histograms, error
 * counts and records processed, kept in the same long-lived day hash (`stats:<day>`) under
 * fields that start with `~`, so the plain counters stay as they were.
 *
 * The TaskStore computes the fields one event adds (`statsIncrements`); the apply-event script
 * counts them only when it applies the event, in the same atomic step as the state, so a
 * duplicated or late event is never counted twice. Reports read them back with `parseDayStats`.
 *
 * Fields:
 * - `~duration|<type>|<state>|<bucket>`: terminal runs whose `runtime_ms` falls in `bucket`
 *   (log-scale, four buckets per doubling: a percentile read from them is at most 19 % high);
 * - `~error|<type>|<error>`: FAILUREs by their error (first line, ids replaced, 160 chars);
 * - `~records|<type>`: sum of `records_processed` of SUCCESS results.
 */
import type { StateEvent } from '@tasks/contracts';

export const EXTRA_STATS_MARK = '~';

/** Bucket `b` holds run times in (2^((b-1)/4), 2^(b/4)] ms; bucket 0 holds up to 1 ms. */
export function durationBucket(ms: number): number {
  return ms <= 1 ? 0 : Math.ceil(4 * Math.log2(ms) - 1e-9);
}

/** The largest run time bucket `b` holds, in ms. */
export const bucketUpperMs = (bucket: number): number => 2 ** (bucket / 4);

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const MAX_ERROR_LENGTH = 160;

/** One line per error kind: ids would make every failure its own kind. */
export function errorKind(error: string): string {
  const firstLine = error.split(/\r?\n/, 1)[0] ?? '';
  const kind = firstLine.replace(UUID, '<id>').replace(/\s+/g, ' ').trim();
  return (kind || 'unknown error').slice(0, MAX_ERROR_LENGTH);
}

/**
 * The extra counters `event` adds to its day when applied, as the script reads them: one
 * `<increment> <field>` per line.
 */
export function statsIncrements(event: StateEvent): string {
  const lines: string[] = [];
  const terminal =
    event.state === 'SUCCESS' || event.state === 'FAILURE' || event.state === 'REVOKED';
  if (terminal && typeof event.runtime_ms === 'number' && Number.isFinite(event.runtime_ms)) {
    const bucket = durationBucket(event.runtime_ms);
    lines.push(`1 ${EXTRA_STATS_MARK}duration|${event.type}|${event.state}|${bucket}`);
  }
  if (event.state === 'FAILURE') {
    lines.push(`1 ${EXTRA_STATS_MARK}error|${event.type}|${errorKind(event.error ?? '')}`);
  }
  if (event.state === 'SUCCESS') {
    const records = (event.result as { records_processed?: unknown } | null | undefined)
      ?.records_processed;
    if (typeof records === 'number' && Number.isSafeInteger(records) && records > 0) {
      lines.push(`${records} ${EXTRA_STATS_MARK}records|${event.type}`);
    }
  }
  return lines.join('\n');
}

/** One day of statistics, read back from its hash. */
export interface DayStats {
  /** type → state → tasks that reached it (SUCCESS, FAILURE, REVOKED, RETRY). */
  readonly counts: Record<string, Record<string, number>>;
  /** type → state → duration bucket → runs. */
  readonly durations: Record<string, Record<string, Record<number, number>>>;
  /** type → error kind → FAILUREs. */
  readonly errors: Record<string, Record<string, number>>;
  /** type → records processed. */
  readonly records: Record<string, number>;
}

function child<T>(parent: Record<string, T>, key: string, empty: () => T): T {
  const existing = parent[key];
  if (existing !== undefined) return existing;
  const created = empty();
  parent[key] = created;
  return created;
}

const emptyCounts = (): Record<string, number> => ({});

export function parseDayStats(hash: Record<string, string>): DayStats {
  const stats: DayStats = { counts: {}, durations: {}, errors: {}, records: {} };
  for (const [field, value] of Object.entries(hash)) {
    const count = Number(value);
    if (!Number.isFinite(count)) continue;
    if (!field.startsWith(EXTRA_STATS_MARK)) {
      const [type, state] = field.split('|');
      if (type && state) child(stats.counts, type, emptyCounts)[state] = count;
      continue;
    }
    const [kind, type, ...rest] = field.slice(EXTRA_STATS_MARK.length).split('|');
    if (!type) continue;
    if (kind === 'duration' && rest.length === 2) {
      const byState = child(
        stats.durations,
        type,
        (): Record<string, Record<number, number>> => ({}),
      );
      child(byState, rest[0]!, (): Record<number, number> => ({}))[Number(rest[1])] = count;
    } else if (kind === 'error') {
      child(stats.errors, type, emptyCounts)[rest.join('|')] = count;
    } else if (kind === 'records') {
      stats.records[type] = count;
    }
  }
  return stats;
}

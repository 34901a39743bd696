/**
 * A report as CSV: for a tasks summary one row per task type (its counts, success rate, retries,
 * p50/p95 run time and top errors over the period); for data processing one row per day.
 */
import { toCsv } from './csv';
import type { ReportSpec } from './report-spec';
import type { ReportSummary } from './summary';

const blankIfNull = (value: number | null): string | number => (value === null ? '' : value);

export const TASKS_SUMMARY_COLUMNS = [
  'task_type',
  'total',
  'succeeded',
  'failed',
  'revoked',
  'retries',
  'success_rate',
  'p50_ms',
  'p95_ms',
  'top_errors',
] as const;

export const DATA_PROCESSING_COLUMNS = [
  'day',
  'tasks_succeeded',
  'tasks_failed',
  'tasks_revoked',
  'retries',
  'records_processed',
  'p50_ms',
  'p95_ms',
] as const;

export function reportCsv(spec: ReportSpec, summary: ReportSummary): string {
  if (spec.content === 'data_processing') {
    return toCsv([
      DATA_PROCESSING_COLUMNS,
      ...summary.days.map((d) => [
        d.day,
        d.counts.SUCCESS,
        d.counts.FAILURE,
        d.counts.REVOKED,
        d.counts.RETRY,
        d.recordsProcessed,
        blankIfNull(d.p50Ms),
        blankIfNull(d.p95Ms),
      ]),
    ]);
  }
  return toCsv([
    TASKS_SUMMARY_COLUMNS,
    ...summary.types.map((t) => [
      t.taskType,
      t.total,
      t.succeeded,
      t.failed,
      t.revoked,
      t.retries,
      t.successRate === null ? '' : t.successRate.toFixed(4),
      blankIfNull(t.p50Ms),
      blankIfNull(t.p95Ms),
      t.topErrors.map((e) => `${e.error} (${e.count})`).join('; '),
    ]),
  ]);
}

/**
 * The days a report covers, from its type and params: `daily` is yesterday, `monthly` is
 * `params.month`/`params.year` (the current month and year by default), any other type
 * `params.from`..`params.to` (YYYY-MM-DD, inclusive) or, by default, yesterday and today (the
 * counters are per UTC day: the last 24 hours lie within these two days).
 */
import { PermanentError } from '@tasks/runtime/handler';

const DAY_MS = 86_400_000;
const MAX_DAYS = 366;

export interface ReportPeriod {
  readonly from: string;
  readonly to: string;
  readonly days: readonly string[];
}

const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function parseDay(value: unknown, field: string): number {
  if (
    typeof value !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}$/.test(value) ||
    Number.isNaN(Date.parse(value)) ||
    // Date.parse rolls 2023-02-29 over to March 1; a real day reads back as itself.
    isoDay(Date.parse(`${value}T00:00:00Z`)) !== value
  ) {
    throw new PermanentError(`params.${field} must be a date as YYYY-MM-DD`);
  }
  return Date.parse(`${value}T00:00:00Z`);
}

function span(fromMs: number, toMs: number): ReportPeriod {
  if (toMs < fromMs) throw new PermanentError('params.to must not be before params.from');
  const days: string[] = [];
  for (let t = fromMs; t <= toMs && days.length < MAX_DAYS; t += DAY_MS) days.push(isoDay(t));
  // A range longer than MAX_DAYS is cut; `to` says where it really ends.
  return { from: isoDay(fromMs), to: days[days.length - 1] ?? isoDay(toMs), days };
}

export function reportPeriod(
  reportType: string,
  params: Record<string, unknown>,
  now = Date.now(),
): ReportPeriod {
  const today = Date.parse(`${isoDay(now)}T00:00:00Z`);
  if (reportType === 'daily') return span(today - DAY_MS, today - DAY_MS);
  if (reportType === 'monthly') {
    const month = Number(params.month ?? new Date(now).getUTCMonth() + 1);
    const year = Number(params.year ?? new Date(now).getUTCFullYear());
    if (!Number.isInteger(month) || month < 1 || month > 12)
      throw new PermanentError('params.month must be 1-12');
    if (!Number.isInteger(year) || year < 2000 || year > 2100)
      throw new PermanentError('params.year must be 2000-2100');
    return span(Date.UTC(year, month - 1, 1), Date.UTC(year, month, 0));
  }
  if (params.from !== undefined || params.to !== undefined) {
    const from = params.from === undefined ? today : parseDay(params.from, 'from');
    const to = params.to === undefined ? today : parseDay(params.to, 'to');
    return span(from, to);
  }
  return span(today - DAY_MS, today);
}

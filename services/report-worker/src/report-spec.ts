/**
 * What to build for a `task.report.generate` payload: which content (the four known types; any
 * other name is a tasks summary titled with that name), its title, format (PDF by default, as the
 * original's `.pdf` URL suggested) and period. Params are checked with the same schemas as the
 * gateway, so a command from elsewhere with bad params fails permanently, naming the param.
 */
import {
  DATA_PROCESS,
  isKnownReportType,
  type KnownReportType,
  type ReportFormat,
  reportParamsSchema,
} from '@tasks/contracts';
import { PermanentError } from '@tasks/runtime/handler';
import { type ReportPeriod, reportPeriod } from './report-period';

export type ReportContent = 'tasks_summary' | 'data_processing';

export interface ReportSpec {
  readonly reportType: string;
  readonly content: ReportContent;
  readonly title: string;
  readonly format: ReportFormat;
  readonly period: ReportPeriod;
  /** The task types the report counts. */
  readonly includes: (taskType: string) => boolean;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const TITLES: Record<KnownReportType, string> = {
  tasks_summary: 'Tasks summary',
  daily: 'Daily report',
  monthly: 'Monthly report',
  data_processing: 'Data processing report',
};

export function reportSpec(
  reportType: string,
  params: Record<string, unknown>,
  now = Date.now(),
): ReportSpec {
  const parsed = reportParamsSchema(reportType).safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ['params', ...(issue?.path ?? []).map(String)].join('.');
    throw new PermanentError(`${field} ${issue?.message ?? 'is invalid'}`);
  }
  const checked = parsed.data;
  const period = reportPeriod(reportType, checked, now);
  const format: ReportFormat = checked.format === 'csv' ? 'csv' : 'pdf';
  const known = isKnownReportType(reportType) ? reportType : undefined;
  let title = known ? TITLES[known] : reportType;
  if (known === 'monthly') {
    const [year, month] = period.from.split('-').map(Number);
    title = `${TITLES.monthly}: ${MONTHS[(month ?? 1) - 1]} ${year}`;
  }
  const content: ReportContent = known === 'data_processing' ? 'data_processing' : 'tasks_summary';
  return {
    reportType,
    content,
    title,
    format,
    period,
    includes: content === 'data_processing' ? (type) => type === DATA_PROCESS : () => true,
  };
}

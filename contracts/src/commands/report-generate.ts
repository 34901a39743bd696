/**
 * `task.report.generate`: build a report file from the platform's statistics.
 *
 * Published by gateway and scheduler; consumed by report-worker from `report-worker.tasks`.
 * `report_type` is free text as in the original: unknown names still yield a report.
 */
import { z } from 'zod';
import { CommandEnvelope } from '../envelope';
import { boundedRecord, COLLECTION_LIMITS } from '../limits';
import { commandKey } from '../routing-keys';

export const REPORT_GENERATE = commandKey('report', 'generate');

export const ReportGeneratePayload = z.looseObject({
  report_type: z
    .string()
    .min(1)
    .max(100)
    .describe(
      'tasks_summary, daily, monthly, data_processing, or any other name (a tasks summary titled with it)',
    ),
  params: boundedRecord(z.string(), z.unknown(), COLLECTION_LIMITS.reportParams)
    .default({})
    .describe(
      'format: pdf (default) or csv; tasks_summary and data_processing: from, to (YYYY-MM-DD); ' +
        'monthly: month (1-12), year (2000-2100). Other keys are ignored.',
    ),
});
export type ReportGeneratePayload = z.infer<typeof ReportGeneratePayload>;

export const ReportGenerateCommand = CommandEnvelope.extend({
  type: z.literal(REPORT_GENERATE),
  payload: ReportGeneratePayload,
});
export type ReportGenerateCommand = z.infer<typeof ReportGenerateCommand>;

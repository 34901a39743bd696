/**
 * The `params` of `task.report.generate`, per report type. `report_type` stays free text (the
 * original's clients keep working): a known type's params are checked here, by the gateway (422
 * naming `params.<field>`) and again by the report worker (a command from elsewhere fails as
 * a permanent error); any other name is a `tasks_summary` titled with that name, whose only
 * checked param is `format` (the worker still refuses a bad `from`/`to` when it runs).
 * Unknown keys are ignored.
 */
import { z } from 'zod';

export const REPORT_FORMATS = ['pdf', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const KNOWN_REPORT_TYPES = ['tasks_summary', 'daily', 'monthly', 'data_processing'] as const;
export type KnownReportType = (typeof KNOWN_REPORT_TYPES)[number];

export const isKnownReportType = (name: string): name is KnownReportType =>
  (KNOWN_REPORT_TYPES as readonly string[]).includes(name);

const isoDayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** A calendar day as YYYY-MM-DD (UTC); 2023-02-29 is refused, not rolled over. */
export const ReportDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date as YYYY-MM-DD', abort: true })
  .refine((value) => {
    const ms = Date.parse(`${value}T00:00:00Z`);
    return Number.isFinite(ms) && isoDayOf(ms) === value;
  }, 'must be a real calendar day');

/** An integer, given as a number or as its digits (`4`, `"4"`). */
const wholeNumber = (min: number, max: number) =>
  z
    .union([z.number(), z.string().regex(/^\d{1,4}$/, `must be a whole number ${min}-${max}`)])
    .transform(Number)
    .pipe(z.number().int(`must be a whole number ${min}-${max}`).min(min).max(max));

const format = z.enum(REPORT_FORMATS).optional();

const FromTo = z
  .looseObject({ format, from: ReportDay.optional(), to: ReportDay.optional() })
  .refine((p) => p.from === undefined || p.to === undefined || p.to >= p.from, {
    path: ['to'],
    message: 'must not be before from',
  });

export const ReportParamsSchemas = {
  tasks_summary: FromTo,
  data_processing: FromTo,
  daily: z.looseObject({ format }),
  monthly: z.looseObject({
    format,
    month: wholeNumber(1, 12).optional(),
    year: wholeNumber(2000, 2100).optional(),
  }),
} as const;

/** What any other report type's params must satisfy. */
export const FreeReportParams = z.looseObject({ format });

/** The schema of `report_type`'s params. */
export const reportParamsSchema = (reportType: string): z.ZodType<Record<string, unknown>> =>
  isKnownReportType(reportType) ? ReportParamsSchemas[reportType] : FreeReportParams;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Issues of `params` for `report_type`, with paths under `params`. */
export function checkReportParams(fields: Record<string, unknown>, ctx: z.RefinementCtx): void {
  if (typeof fields.report_type !== 'string' || !isRecord(fields.params)) return; // own checks
  const parsed = reportParamsSchema(fields.report_type).safeParse(fields.params);
  if (parsed.success) return;
  for (const issue of parsed.error.issues) {
    ctx.addIssue({
      code: 'custom',
      path: ['params', ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
      message: issue.message,
      input: issue.input,
    });
  }
}

/** `schema` (a report request) with {@link checkReportParams}. */
export function withReportParamsRules<S extends z.ZodObject>(schema: S): S {
  return schema.check(
    z.superRefine<Record<string, unknown>>(checkReportParams, {
      when: (payload) => isRecord(payload.value),
    }),
  );
}

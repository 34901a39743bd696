/**
 * `task.data.process`: process a data set in steps, reporting progress after each step.
 *
 * Published by gateway and scheduler; consumed by processing-worker from `processing-worker.tasks`.
 * `data.records` may be a count (as in the original) or an array of objects.
 */
import { z } from 'zod';
import { CommandEnvelope } from '../envelope';
import { commandKey } from '../routing-keys';

export const DATA_PROCESS = commandKey('data', 'process');

/** Most records one task takes. */
export const MAX_DATA_RECORDS = 100_000;
const MAX_RECORD_COUNT = 1_000_000_000;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `data.records`: a count (as in the original) or the records themselves, at most
 * {@link MAX_DATA_RECORDS} objects. Checked in one plain pass that stops at the first bad
 * record: zod's element-by-element array (and the union around it) cost seconds of CPU for a
 * 300 KB list of non-objects, one issue per element.
 */
export const DataRecords = z
  .custom<number | Record<string, unknown>[]>()
  .check(
    z.superRefine((value, ctx) => {
      const issue = (message: string, input: unknown, path: number[] = []) =>
        ctx.addIssue({ code: 'custom', message, input, path });
      if (typeof value === 'number') {
        if (!Number.isInteger(value) || value < 0 || value > MAX_RECORD_COUNT) {
          issue(`a count of records is a whole number 0-${MAX_RECORD_COUNT}`, value);
        }
        return;
      }
      if (!Array.isArray(value)) {
        issue('records is a count or a list of objects', value);
        return;
      }
      if (value.length > MAX_DATA_RECORDS) {
        issue(`at most ${MAX_DATA_RECORDS} records`, value.length);
        return;
      }
      const bad = value.findIndex((record) => !isRecord(record));
      if (bad >= 0) issue('a record is an object', value[bad], [bad]);
    }),
  )
  .meta({
    anyOf: [
      { type: 'integer', minimum: 0, maximum: MAX_RECORD_COUNT },
      { type: 'array', maxItems: MAX_DATA_RECORDS, items: { type: 'object' } },
    ],
  });
export type DataRecords = z.infer<typeof DataRecords>;

export const DataProcessPayload = z.looseObject({
  data: z.looseObject({ records: DataRecords.optional() }),
  description: z.string().max(10_000).optional(),
});
export type DataProcessPayload = z.infer<typeof DataProcessPayload>;

export const DataProcessCommand = CommandEnvelope.extend({
  type: z.literal(DATA_PROCESS),
  payload: DataProcessPayload,
});
export type DataProcessCommand = z.infer<typeof DataProcessCommand>;

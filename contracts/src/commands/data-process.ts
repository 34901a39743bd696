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

/** `data.records`: a count (as in the original) or the records themselves. */
export const DataRecords = z.union([
  z.number().int().min(0).max(1_000_000_000),
  z.array(z.record(z.string(), z.unknown())).max(100_000),
]);
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

/**
 * Schedules as data (the scheduler's file) and the admin API's bodies. A schedule fires a normal
 * command: `task` is a command routing key from {@link TASK_TYPES}, `payload` its payload.
 */
import { z } from 'zod';
import { boundedRecord, COLLECTION_LIMITS } from './limits';

export const CatchUpPolicy = z.enum(['none', 'latest', 'all']);
export type CatchUpPolicy = z.infer<typeof CatchUpPolicy>;

/** `30s`, `5m`, `1h`, `1d`, or a number of milliseconds. */
export const IntervalSpec = z.union([
  z.number().int().min(1000),
  z.string().regex(/^\d+(ms|s|m|h|d)$/, 'must look like 30s, 5m, 1h or 1d'),
]);

const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

export const ScheduleSpec = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'lower-case letters, digits, . _ -'),
    task: z.string().min(1),
    payload: boundedRecord(z.string(), z.unknown(), COLLECTION_LIMITS.schedulePayload).default({}),
    cron: z.string().min(1).optional(),
    every: IntervalSpec.optional(),
    timezone: z
      .string()
      .refine(isTimeZone, { message: 'must be an IANA time zone, e.g. Europe/Kyiv' })
      .default('UTC'),
    catch_up: CatchUpPolicy.default('latest'),
    /** At most this many missed runs are fired by `catch_up: all`. */
    max_catch_up: z.number().int().min(1).max(1000).default(10),
    enabled: z.boolean().default(true),
    priority: z.number().int().min(0).max(9).default(0),
  })
  .refine((s) => (s.cron === undefined) !== (s.every === undefined), {
    message: 'give exactly one of cron or every',
    path: ['cron'],
  });
export type ScheduleSpec = z.infer<typeof ScheduleSpec>;

export const ScheduleFile = z.object({
  schedules: z.array(ScheduleSpec).max(COLLECTION_LIMITS.schedules),
});
export type ScheduleFile = z.infer<typeof ScheduleFile>;

/** A schedule as the admin API shows it: its definition (as PUT takes it) and its runs. */
export const ScheduleView = z.object({
  name: z.string(),
  task: z.string(),
  payload: z.record(z.string(), z.unknown()),
  priority: z.number().int(),
  cron: z.string().optional(),
  every: z.union([z.string(), z.number()]).optional(),
  timezone: z.string(),
  /** The definition's `enabled`, or PATCH's override of it. */
  enabled: z.boolean(),
  catch_up: CatchUpPolicy,
  max_catch_up: z.number().int(),
  /** Null until the leading scheduler has taken the schedule up (within one tick). */
  next_run_at: z.string().nullable(),
  last_run_at: z.string().nullable(),
  last_due_at: z.string().nullable(),
  last_task_id: z.string().nullable(),
});
export type ScheduleView = z.infer<typeof ScheduleView>;

export const ScheduleListResponse = z.object({
  schedules: z.array(ScheduleView).max(COLLECTION_LIMITS.schedules),
});
export type ScheduleListResponse = z.infer<typeof ScheduleListResponse>;

export const SchedulePatchRequest = z.object({ enabled: z.boolean() });
export type SchedulePatchRequest = z.infer<typeof SchedulePatchRequest>;

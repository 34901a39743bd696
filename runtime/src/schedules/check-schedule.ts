/**
 * What a schedule's schema cannot check: its task type exists, its payload is valid for that
 * type, and its cron or interval has a next due time. The scheduler's file and the admin API
 * both refuse a schedule with an issue, naming the field.
 */
import { type ScheduleSpec, taskTypeByRoutingKey } from '@tasks/contracts';
import { ScheduleTimer } from './schedule-timer';

export interface ScheduleIssue {
  /** The field, from the schedule's root: `['payload', 'data']`. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export function scheduleIssue(spec: ScheduleSpec, now = new Date()): ScheduleIssue | undefined {
  const type = taskTypeByRoutingKey(spec.task);
  if (!type) return { path: ['task'], message: `unknown task "${spec.task}"` };
  const payload = type.payload.safeParse(spec.payload);
  if (!payload.success) {
    const first = payload.error.issues[0];
    return {
      path: ['payload', ...(first?.path ?? []).map((p) => (typeof p === 'number' ? p : String(p)))],
      message: first?.message ?? 'invalid',
    };
  }
  if (Buffer.byteLength(JSON.stringify(spec.payload)) > type.maxPayloadBytes) {
    return { path: ['payload'], message: `is larger than ${type.maxPayloadBytes} bytes` };
  }
  try {
    // A valid cron may match no date at all (`0 0 30 2 *`): refuse it rather than never fire.
    if (new ScheduleTimer(spec).next(now) === null) throw new Error('matches no date');
  } catch (err) {
    return { path: [spec.cron !== undefined ? 'cron' : 'every'], message: (err as Error).message };
  }
  return undefined;
}

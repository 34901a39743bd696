/**
 * The largest collections the contracts accept. Every array and record in a schema has one, so
 * the work of validating any message or body is bounded by its size, not only by its bytes
 * (docs/SECURITY.md, "Bounded work per request"). Workflow members are bounded by the gateway's
 * WORKFLOW_MAX_STEPS instead (workflows.ts).
 */
import { z } from 'zod';

export const COLLECTION_LIMITS = {
  /** Keys of a report's `params`. */
  reportParams: 50,
  /** Variables of an e-mail template (the templates use at most three). */
  templateVariables: 50,
  /** Keys of a schedule's command payload. */
  schedulePayload: 200,
  /** Schedules in the scheduler's file. */
  schedules: 1000,
  /** State events in one events message (a worker's or the gateway's batch). */
  eventBatch: 10_000,
  /** Task types one worker consumes. */
  workerTaskTypes: 100,
  /** Tasks one worker heartbeat lists as active or reserved. */
  workerTasks: 10_000,
  /** Keys of a heartbeat's `details`. */
  workerDetails: 100,
  /** Entries of a response listing (steps, task ids, dead letters, schedules, workers). */
  listing: 10_000,
  /** Elements of a 422's `loc` (the JSON depth limit bounds it far below). */
  issuePath: 100,
  /** Most issues a 422 lists (VALIDATION_MAX_ISSUES is at most this); one more says the rest were cut. */
  validationIssues: 1000,
  /** Keys of a workflow step's `payload` (its task's schema and payload limit apply too). */
  stepPayload: 1000,
} as const;

/**
 * `z.record(key, value)` of at most `max` entries (also stated as `maxProperties` in its JSON
 * Schema). The count is checked even when entries failed their own checks.
 */
export function boundedRecord<K extends z.core.$ZodRecordKey, V extends z.ZodType>(
  key: K,
  value: V,
  max: number,
): z.ZodRecord<K, V> {
  return z
    .record(key, value)
    .check(
      z.superRefine<Record<PropertyKey, unknown>>(
        (input, ctx) => {
          if (Object.keys(input).length > max) {
            ctx.addIssue({
              code: 'too_big',
              origin: 'object',
              maximum: max,
              inclusive: true,
              input,
              message: `must have at most ${max} keys`,
            });
          }
        },
        { when: (payload) => isRecord(payload.value) },
      ),
    )
    .meta({ maxProperties: max });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The options every `POST /tasks/<name>` takes besides the task's own payload fields. */
import { z } from 'zod';

export const TaskOptionsShape = {
  priority: z.number().int().min(0).max(9).optional().describe('0-9, 9 runs first; default 0'),
  countdown: z
    .number()
    .min(0)
    .optional()
    .describe('Run no earlier than this many seconds from now'),
  eta: z.iso.datetime({ offset: true }).optional().describe('Run no earlier than this ISO time'),
};
export const TASK_OPTION_KEYS = Object.keys(TaskOptionsShape) as (keyof typeof TaskOptionsShape)[];

/**
 * The request body of a task type: its payload's fields plus the options, unknown fields dropped
 * (no mass assignment). `.shape` drops the payload's cross-field rules, so `rules` applies them
 * again.
 */
export function taskRequestSchema<S extends z.ZodRawShape>(
  payload: z.ZodObject<S>,
  rules?: <T extends z.ZodObject>(schema: T) => T,
): TaskRequestSchema<S> {
  const request = z.object({ ...payload.shape, ...TaskOptionsShape });
  return rules ? rules(request) : request;
}

export type TaskRequestSchema<S extends z.ZodRawShape> = z.ZodObject<
  Omit<S, keyof typeof TaskOptionsShape> & typeof TaskOptionsShape,
  z.core.$strip
>;

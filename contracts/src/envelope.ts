/**
 * The envelope every command shares. Unknown fields are kept (`looseObject`), so a
 * newer producer never breaks an older consumer; a missing required field makes a poison message.
 */
import { z } from 'zod';
import { TaskId } from './task-id';

/** Schema version of commands and events; bumped on an incompatible change. */
export const SCHEMA_VERSION = 1;

export const WorkflowRef = z.looseObject({
  workflow_id: z.string().min(1),
  node: z.string().min(1),
});
export type WorkflowRef = z.infer<typeof WorkflowRef>;

export const CommandEnvelope = z.looseObject({
  v: z.number().int().positive().default(SCHEMA_VERSION),
  task_id: TaskId,
  type: z.string().min(1),
  payload: z.looseObject({}),
  /** API priority 0-9 (9 first); the broker gets {@link brokerPriority} of it. */
  priority: z.number().int().min(0).max(9).default(0),
  created_at: z.iso.datetime({ offset: true }),
  /** ISO time before which the task must not run (countdown / eta). */
  not_before: z.iso.datetime({ offset: true }).optional(),
  idempotency_key: z.string().optional(),
  workflow: WorkflowRef.optional(),
  /** The schedule that fired this command, with its due time (scheduler). */
  schedule: z.looseObject({ name: z.string(), due_at: z.string() }).optional(),
});
export type CommandEnvelope = z.infer<typeof CommandEnvelope>;

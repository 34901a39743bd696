/**
 * HTTP bodies of the gateway (docs/api.md): snake_case field names as the original.
 * Request bodies drop unknown fields (no mass assignment); responses may carry extra fields.
 */
import { z } from 'zod';
import { DataProcessPayload } from './commands/data-process';
import { EmailSendPayload, withEmailContentRules } from './commands/email-send';
import { ReportGeneratePayload } from './commands/report-generate';
import { withReportParamsRules } from './commands/report-params';
import { TaskProgress } from './events';
import { boundedRecord, COLLECTION_LIMITS } from './limits';
import { TaskState } from './task-state';

/** Options every create endpoint takes besides the task's own fields. */
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

/** `.shape` drops the payload's cross-field rules (templates): they are applied again here. */
export const EmailTaskRequest = withEmailContentRules(
  z.object({ ...EmailSendPayload.shape, ...TaskOptionsShape }),
);
export type EmailTaskRequest = z.infer<typeof EmailTaskRequest>;

export const ProcessTaskRequest = z.object({ ...DataProcessPayload.shape, ...TaskOptionsShape });
export type ProcessTaskRequest = z.infer<typeof ProcessTaskRequest>;

/** A known report type's params are checked (422 naming `params.<field>`). */
export const ReportTaskRequest = withReportParamsRules(
  z.object({ ...ReportGeneratePayload.shape, ...TaskOptionsShape }),
);
export type ReportTaskRequest = z.infer<typeof ReportTaskRequest>;

export const TaskCreatedResponse = z.object({
  task_id: z.string(),
  status: z.literal('queued'),
  message: z.string(),
});
export type TaskCreatedResponse = z.infer<typeof TaskCreatedResponse>;

export const TaskStatusResponse = z.looseObject({
  task_id: z.string(),
  status: TaskState,
  result: z.union([z.record(z.string(), z.unknown()), TaskProgress]).nullable(),
  error: z.string().nullable(),
  task_type: z.string().optional(),
  attempt: z.number().int().optional(),
  created_at: z.string().nullable().optional(),
  updated_at: z.string().nullable().optional(),
  eta: z.string().nullable().optional(),
  next_retry_at: z.string().nullable().optional(),
  worker: z.string().nullable().optional(),
});
export type TaskStatusResponse = z.infer<typeof TaskStatusResponse>;

/** GET /tasks: one page of the history, newest first. */
export const TaskListResponse = z.object({
  tasks: z.array(TaskStatusResponse),
  /** Pass as `cursor` for the next (older) page; null when none is left. */
  next_cursor: z.string().nullable(),
});
export type TaskListResponse = z.infer<typeof TaskListResponse>;

/** One state change on a task's timeline. */
export const TaskHistoryEvent = z.object({
  state: TaskState,
  time: z.string(),
  attempt: z.number().int(),
  worker: z.string(),
  error: z.string().optional(),
});
export type TaskHistoryEvent = z.infer<typeof TaskHistoryEvent>;

/** GET /tasks/{task_id}/history. */
export const TaskHistoryResponse = z.object({
  task_id: z.string(),
  trace_id: z.string().nullable(),
  /** The trace in Jaeger's UI, when the gateway knows where it is (JAEGER_UI_URL). */
  trace_url: z.string().nullable(),
  events: z.array(TaskHistoryEvent),
});
export type TaskHistoryResponse = z.infer<typeof TaskHistoryResponse>;

export const CancelResponse = z.object({
  message: z.string(),
  previous_status: TaskState,
});
export type CancelResponse = z.infer<typeof CancelResponse>;

const TaskListing = boundedRecord(
  z.string(),
  z.array(z.looseObject({ task_id: z.string() })).max(COLLECTION_LIMITS.listing),
  COLLECTION_LIMITS.listing,
);
export const ActiveTasksResponse = z.object({
  active: TaskListing,
  scheduled: TaskListing,
  reserved: TaskListing,
});
export type ActiveTasksResponse = z.infer<typeof ActiveTasksResponse>;

export const HealthResponse = z.object({
  status: z.enum(['healthy', 'degraded', 'unhealthy']),
  api: z.literal('running'),
  workers: z.number().int().min(0),
  worker_details: boundedRecord(z.string(), z.looseObject({}), COLLECTION_LIMITS.listing),
  broker: z.string().optional(),
  store: z.string().optional(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

export const RootResponse = z.object({
  message: z.string(),
  endpoints: boundedRecord(z.string(), z.string(), COLLECTION_LIMITS.listing),
});
export type RootResponse = z.infer<typeof RootResponse>;

/** `{detail: "..."}`, FastAPI's shape for every error but validation. */
export const ErrorResponse = z.object({ detail: z.string() });
export type ErrorResponse = z.infer<typeof ErrorResponse>;

export const ValidationIssue = z.object({
  loc: z.array(z.union([z.string(), z.number()])).max(COLLECTION_LIMITS.issuePath),
  msg: z.string(),
  type: z.string(),
});
export type ValidationIssue = z.infer<typeof ValidationIssue>;

/**
 * 422 `{detail: [{loc, msg, type}]}`, FastAPI's validation error shape. At most
 * VALIDATION_MAX_ISSUES issues; when more were found, a last one of type `too_many_errors` says
 * how many were cut.
 */
export const ValidationErrorResponse = z.object({
  detail: z.array(ValidationIssue).max(COLLECTION_LIMITS.validationIssues + 1),
});
export type ValidationErrorResponse = z.infer<typeof ValidationErrorResponse>;

export const DeadLetterView = z.looseObject({
  task_id: z.string(),
  service: z.string(),
  type: z.string().nullable(),
  reason: z.string(),
  parked_at: z.string(),
  attempt: z.number().int(),
  payload: z.unknown().nullable(),
});
export type DeadLetterView = z.infer<typeof DeadLetterView>;

export const DeadLetterListResponse = z.object({
  total: z.number().int().min(0),
  dead_letters: z.array(DeadLetterView).max(COLLECTION_LIMITS.listing),
});
export type DeadLetterListResponse = z.infer<typeof DeadLetterListResponse>;

export const ReplayResponse = z.object({
  task_id: z.string(),
  status: z.literal('queued'),
  message: z.string(),
  attempt: z.number().int().min(1),
});
export type ReplayResponse = z.infer<typeof ReplayResponse>;

export const MessageResponse = z.object({ message: z.string() });
export type MessageResponse = z.infer<typeof MessageResponse>;

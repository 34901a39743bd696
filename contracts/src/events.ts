/**
 * State events, worker heartbeats and control messages.
 *
 * Workers (and the gateway, for PENDING and REVOKED) produce state events on the `events`
 * exchange; the status-store applies them in order of (attempt, state rank, seq).
 */
import { z } from 'zod';
import { SCHEMA_VERSION } from './envelope';
import { boundedRecord, COLLECTION_LIMITS } from './limits';
import { TaskState } from './task-state';

export const TaskProgress = z.looseObject({
  current: z.number().int().min(0),
  total: z.number().int().min(1),
  status: z.string().optional(),
});
export type TaskProgress = z.infer<typeof TaskProgress>;

export const StateEvent = z.looseObject({
  v: z.number().int().positive().default(SCHEMA_VERSION),
  task_id: z.string().min(1).max(200),
  /** The command routing key, e.g. `task.email.send`. */
  type: z.string().min(1),
  state: TaskState,
  /** 1 on the first attempt; 0 for PENDING, before any attempt. */
  attempt: z.number().int().min(0),
  /** Orders events of one run of one attempt. */
  seq: z.number().int().min(0),
  at: z.iso.datetime({ offset: true }),
  /** Worker instance name, or the producing service. */
  worker: z.string(),
  progress: TaskProgress.optional(),
  result: z.unknown().optional(),
  error: z.string().optional(),
  next_retry_at: z.iso.datetime({ offset: true }).optional(),
  /** PENDING only. */
  eta: z.iso.datetime({ offset: true }).optional(),
  created_at: z.iso.datetime({ offset: true }).optional(),
  priority: z.number().int().min(0).max(9).optional(),
  /** PENDING only: the id of the API key that created the task (docs/SECURITY.md). */
  owner: z.string().min(1).max(64).optional(),
  /** PENDING only: the W3C trace id of the submission, when it was traced. */
  trace_id: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
  /** Run time of the attempt in milliseconds, on terminal and RETRY events. */
  runtime_ms: z.number().min(0).optional(),
});
export type StateEvent = z.infer<typeof StateEvent>;

/** One AMQP message on the events exchange carries one event or a batch of them. */
export const StateEventMessage = z.union([
  StateEvent,
  z.array(StateEvent).min(1).max(COLLECTION_LIMITS.eventBatch),
]);
export type StateEventMessage = z.infer<typeof StateEventMessage>;

export const TaskRef = z.looseObject({
  task_id: z.string(),
  type: z.string(),
  started_at: z.string().optional(),
  attempt: z.number().int().optional(),
});
export type TaskRef = z.infer<typeof TaskRef>;

export const WorkerHeartbeat = z.looseObject({
  worker: z.string().min(1),
  service: z.string().min(1),
  hostname: z.string(),
  pid: z.number().int(),
  task_types: z.array(z.string()).max(COLLECTION_LIMITS.workerTaskTypes),
  at: z.iso.datetime({ offset: true }),
  interval_ms: z.number().int().positive(),
  active: z.array(TaskRef).max(COLLECTION_LIMITS.workerTasks),
  reserved: z.array(TaskRef).max(COLLECTION_LIMITS.workerTasks),
  processed: z.number().int().min(0),
  concurrency: z.number().int().positive(),
  /** Worker-specific health, e.g. a circuit breaker's state. */
  details: boundedRecord(z.string(), z.unknown(), COLLECTION_LIMITS.workerDetails).optional(),
  /** Not taking new tasks: its service is paused. */
  paused: z.boolean().optional(),
  /** Finishing what it holds before it exits. */
  draining: z.boolean().optional(),
  /** Runs ended in FAILURE since it started. */
  failed: z.number().int().min(0).optional(),
  started_at: z.iso.datetime({ offset: true }).optional(),
});
export type WorkerHeartbeat = z.infer<typeof WorkerHeartbeat>;

export const WorkerOffline = z.looseObject({
  worker: z.string().min(1),
  service: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
});
export type WorkerOffline = z.infer<typeof WorkerOffline>;

export const RevokeControl = z.looseObject({
  kind: z.literal('revoke'),
  task_id: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
  /** Stop a thread-isolated run by terminating its thread (in-process runs abort as without). */
  terminate: z.boolean().optional(),
});
export type RevokeControl = z.infer<typeof RevokeControl>;

/** A service's control state changed: every replica of `service` applies it. */
export const ServiceControl = z.looseObject({
  kind: z.literal('service-control'),
  service: z.string().min(1),
  paused: z.boolean(),
  /** Null: the replica's own CONCURRENCY setting. */
  concurrency: z.number().int().min(1).nullable(),
  at: z.iso.datetime({ offset: true }),
});
export type ServiceControl = z.infer<typeof ServiceControl>;

/** One replica (`worker`, its instance name) finishes what it holds and exits. */
export const DrainControl = z.looseObject({
  kind: z.literal('drain'),
  worker: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
});
export type DrainControl = z.infer<typeof DrainControl>;

export const ControlMessage = z.discriminatedUnion('kind', [
  RevokeControl,
  ServiceControl,
  DrainControl,
]);
export type ControlMessage = z.infer<typeof ControlMessage>;

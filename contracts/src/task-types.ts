/**
 * The registry of task types: the API's name for each, its command routing key, the service that
 * consumes it, its payload schema and its defaults. Everything else is derived from this table:
 * the gateway's `POST /tasks/<name>` routes (request schema, OpenAPI operation, access rule,
 * `GET /`'s endpoints), the task types a workflow step may name, the topology's bindings, the
 * workers' time limits and retries, and so the CLI and the dashboard, which read the API.
 * `npm run new-task -- <name>` adds an entry (docs/adding-a-worker.md).
 */
import type { z } from 'zod';
import { DATA_PROCESS, DataProcessPayload } from './commands/data-process';
import { EMAIL_SEND, EmailSendPayload, withEmailContentRules } from './commands/email-send';
import { MAINTENANCE_CLEANUP, MaintenanceCleanupPayload } from './commands/maintenance-cleanup';
import { REPORT_GENERATE, ReportGeneratePayload } from './commands/report-generate';
import { withReportParamsRules } from './commands/report-params';
import { servicesOfKind } from './services';
import { type TaskRequestSchema, taskRequestSchema } from './task-options';

/** How the HTTP API offers a task type: `POST /tasks/<apiName>`. */
export interface TaskApiSpec {
  /** The OpenAPI operation's summary. */
  readonly summary: string;
  /** The 202 answer's `message`. */
  readonly queuedMessage: string;
}

/** A type's defaults; each may be overridden where the task is submitted or defined. */
export interface TaskDefaults {
  /** Priority (0-9) of a task submitted without one. @default 0 */
  readonly priority?: number;
  /** Hard limit of one attempt, in ms: it fails (and is retried if it may). */
  readonly timeLimitMs?: number;
  /** Soft limit, in ms: the handler's signal aborts, so it can clean up. */
  readonly softTimeLimitMs?: number;
  /** Overrides of the worker service's retry policy (RETRY_* settings) for this type. */
  readonly retry?: {
    readonly maxRetries?: number;
    readonly baseMs?: number;
    readonly factor?: number;
    readonly maxDelayMs?: number;
  };
}

export interface TaskTypeSpec {
  /** The name in the HTTP API: `POST /tasks/<apiName>`. */
  readonly apiName: string;
  readonly routingKey: string;
  /** The worker service that consumes it; its queue is `<service>.tasks`. */
  readonly service: WorkerServiceName;
  /** The payload schema, an object schema (its fields are the request body's). */
  readonly payload: z.ZodObject;
  /** Largest payload accepted, as JSON bytes (the gateway answers 413 beyond). */
  readonly maxPayloadBytes: number;
  /**
   * Most commands of this type one AMQP message may carry, below the producer's
   * COMMAND_BATCH_MAX; absent: COMMAND_BATCH_MAX alone decides. One worker takes a whole
   * message, so a type whose tasks run long (minutes) keeps 1: its commands never share one.
   */
  readonly commandBatchMax?: number;
  /** The create endpoint; absent: no route (a type only the platform itself submits). */
  readonly api?: TaskApiSpec;
  /** The payload's cross-field rules, applied again to the request body (which `.shape` drops). */
  readonly requestRules?: <T extends z.ZodObject>(schema: T) => T;
  readonly defaults?: TaskDefaults;
}

/** The worker services (kind `worker` in the service manifest), in start order. */
export const WORKER_SERVICES: readonly string[] = servicesOfKind('worker').map((s) => s.name);
/** One of {@link WORKER_SERVICES}. */
export type WorkerServiceName = string;

export const TASK_TYPES = {
  email: {
    apiName: 'email',
    routingKey: EMAIL_SEND,
    service: 'email-worker',
    payload: EmailSendPayload,
    requestRules: withEmailContentRules,
    maxPayloadBytes: 256 * 1024,
    api: { summary: 'Send an e-mail', queuedMessage: 'Email task queued' },
  },
  process: {
    apiName: 'process',
    routingKey: DATA_PROCESS,
    service: 'processing-worker',
    payload: DataProcessPayload,
    maxPayloadBytes: 1024 * 1024,
    api: {
      summary: 'Process a data set, with progress',
      queuedMessage: 'Data processing task queued',
    },
  },
  report: {
    apiName: 'report',
    routingKey: REPORT_GENERATE,
    service: 'report-worker',
    payload: ReportGeneratePayload,
    requestRules: withReportParamsRules,
    maxPayloadBytes: 16 * 1024,
    commandBatchMax: 1,
    api: { summary: 'Generate a report file', queuedMessage: 'Report generation task queued' },
  },
  cleanup: {
    apiName: 'cleanup',
    routingKey: MAINTENANCE_CLEANUP,
    service: 'report-worker',
    payload: MaintenanceCleanupPayload,
    maxPayloadBytes: 4 * 1024,
    commandBatchMax: 1,
  },
} as const satisfies Record<string, TaskTypeSpec>;

export type TaskApiName = keyof typeof TASK_TYPES;

type Registry = typeof TASK_TYPES;

/** The task types the HTTP API creates (those with `api`), in the registry's order. */
export type PublicTaskName = {
  [K in TaskApiName]: Registry[K] extends { readonly api: TaskApiSpec } ? K : never;
}[TaskApiName];

export const PUBLIC_TASK_TYPES = (Object.keys(TASK_TYPES) as TaskApiName[]).filter(
  (name) => 'api' in TASK_TYPES[name],
) as [PublicTaskName, ...PublicTaskName[]];

/** The request schema of each public type: its payload's fields plus the task options. */
export type TaskRequestSchemas = {
  [K in PublicTaskName]: TaskRequestSchema<Registry[K]['payload']['shape']>;
};

export const TASK_REQUEST_SCHEMAS = Object.fromEntries(
  PUBLIC_TASK_TYPES.map((name) => {
    const spec: TaskTypeSpec = TASK_TYPES[name];
    return [name, taskRequestSchema(spec.payload, spec.requestRules)];
  }),
) as TaskRequestSchemas;

const BY_ROUTING_KEY: ReadonlyMap<string, TaskTypeSpec> = new Map(
  Object.values(TASK_TYPES).map((spec) => [spec.routingKey, spec]),
);

/** The spec of a command routing key, or undefined for a type the platform does not know. */
export const taskTypeByRoutingKey = (routingKey: string): TaskTypeSpec | undefined =>
  BY_ROUTING_KEY.get(routingKey);

/** Every command routing key a worker service consumes. */
export const routingKeysOf = (service: WorkerServiceName): string[] =>
  Object.values(TASK_TYPES)
    .filter((spec) => spec.service === service)
    .map((spec) => spec.routingKey);

/**
 * The task types the platform knows: the API's name for each, its command routing key, the
 * service that consumes it, and its payload schema. The gateway, the workers and the topology are
 * all driven from this table.
 */
import type { z } from 'zod';
import { DATA_PROCESS, DataProcessPayload } from './commands/data-process';
import { EMAIL_SEND, EmailSendPayload } from './commands/email-send';
import { MAINTENANCE_CLEANUP, MaintenanceCleanupPayload } from './commands/maintenance-cleanup';
import { REPORT_GENERATE, ReportGeneratePayload } from './commands/report-generate';
import { servicesOfKind } from './services';

export interface TaskTypeSpec {
  /** The name in the HTTP API: `POST /tasks/<apiName>`. */
  readonly apiName: string;
  readonly routingKey: string;
  /** The worker service that consumes it; its queue is `<service>.tasks`. */
  readonly service: WorkerServiceName;
  readonly payload: z.ZodType<Record<string, unknown>>;
  /** Largest payload accepted, as JSON bytes (the gateway answers 413 beyond). */
  readonly maxPayloadBytes: number;
  /**
   * Most commands of this type one AMQP message may carry, below the producer's
   * COMMAND_BATCH_MAX; absent: COMMAND_BATCH_MAX alone decides. One worker takes a whole
   * message, so a type whose tasks run long (minutes) keeps 1: its commands never share one.
   */
  readonly commandBatchMax?: number;
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
    maxPayloadBytes: 256 * 1024,
  },
  process: {
    apiName: 'process',
    routingKey: DATA_PROCESS,
    service: 'processing-worker',
    payload: DataProcessPayload,
    maxPayloadBytes: 1024 * 1024,
  },
  report: {
    apiName: 'report',
    routingKey: REPORT_GENERATE,
    service: 'report-worker',
    payload: ReportGeneratePayload,
    maxPayloadBytes: 16 * 1024,
    commandBatchMax: 1,
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

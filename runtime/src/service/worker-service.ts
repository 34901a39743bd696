/**
 * Everything a worker service needs, wired from its config: two AMQP connections (consume and
 * publish, so a broker alarm never blocks acks), a confirm publisher, Redis, and the worker
 * loop. A worker's main.ts only names its tasks.
 */
import type { WorkerServiceName } from '@tasks/contracts';
import type { WorkerServiceConfig } from '../config/worker-config';
import type { Logger } from '../logging/logger';
import type { Redis } from '../redis/redis-client';
import { DeadLetterStore } from '../store/dead-letter-store';
import type { TaskStore } from '../store/task-store';
import { WORKFLOW_TTL_S, WorkflowStore } from '../workflow/workflow-store';
import { defaultWorkerName, Worker } from '../worker/run-worker';
import { applyIsolation, type RegisteredTask } from '../worker/task-definition';
import { type Closeable, requestStop } from './run-service';
import { closeInOrder, openServiceClients } from './service-clients';
import { addWorkerGauges, clientReadiness, startServiceProbes } from './service-probes';

export interface WorkerServiceOptions {
  readonly service: WorkerServiceName;
  readonly config: WorkerServiceConfig;
  readonly log: Logger;
  /** Built with the service's Redis client, so handlers can keep idempotency records. */
  readonly tasks: (deps: { redis: Redis; store: TaskStore }) => readonly RegisteredTask[];
  readonly details?: () => Record<string, unknown>;
  /** Closes the service's own resources, after the worker drained. */
  readonly onClose?: () => Promise<void>;
}

export interface RunningWorkerService extends Closeable {
  readonly worker: Worker;
}

export async function startWorkerService(
  options: WorkerServiceOptions,
): Promise<RunningWorkerService> {
  const { config, log, service } = options;
  const clients = openServiceClients(service, config, log);
  const { broker, publisher, redis, store } = clients;
  const consumeConnection = broker.connect(`${service}.consume`);
  const worker = new Worker(
    {
      consumeConnection,
      publisher,
      store,
      deadLetters: new DeadLetterStore(redis, store.keys.prefix),
      workflows: new WorkflowStore(redis, store.keys.prefix, WORKFLOW_TTL_S),
      names: broker.names,
      delay: broker.delay,
      log,
    },
    {
      service,
      name: config.WORKER_NAME ?? defaultWorkerName(service),
      tasks: applyIsolation(options.tasks({ redis, store }), config.TASK_ISOLATION),
      concurrency: config.CONCURRENCY,
      prefetch: config.PREFETCH ?? config.CONCURRENCY,
      retry: {
        baseMs: config.RETRY_BASE_MS,
        factor: config.RETRY_FACTOR,
        jitter: config.RETRY_JITTER,
        maxDelayMs: config.RETRY_MAX_DELAY_MS,
        maxRetries: config.MAX_RETRIES,
      },
      maxDeliveries: config.MAX_DELIVERIES,
      timeLimitMs: config.TIME_LIMIT_MS,
      softTimeLimitMs: config.SOFT_TIME_LIMIT_MS,
      drainTimeoutMs: config.SHUTDOWN_GRACE_MS,
      heartbeatMs: config.WORKER_HEARTBEAT_MS,
      // `consuming` tells /health a connected worker that hears nothing (its consumer
      // cancelled, its channel reopening) from one that takes tasks.
      details: () => ({
        ...options.details?.(),
        consuming: consumeConnection.consumerStates().every((c) => c.consuming),
      }),
      // A drain takes the SIGTERM path: the whole service closes in order, then the process exits.
      onDrainRequested: () => {
        if (!requestStop('drain')) void worker.close();
      },
    },
  );
  await publisher.waitForReady();
  await worker.start();
  const removeGauges = addWorkerGauges(service, worker, options.details);
  const probes = await startServiceProbes({
    service,
    config,
    log,
    readiness: () => ({
      ...clientReadiness([consumeConnection, clients.publishConnection], redis),
      worker: worker.lifecycle === 'running',
    }),
  });

  let closing: Promise<void> | undefined;
  return {
    worker,
    forceExitMs: forceExitMsOf(config.SHUTDOWN_GRACE_MS),
    close: () =>
      (closing ??= (async () => {
        await closeInOrder(log, [
          ['worker', () => worker.close()],
          ['service resources', () => options.onClose?.() ?? Promise.resolve()],
          ['consume connection', () => consumeConnection.close()],
          ['clients', () => clients.close()],
          // Last: /livez answers while the worker drains.
          ['probes', () => probes.close()],
          ['gauges', () => Promise.resolve(removeGauges())],
        ]);
      })()),
  };
}

/**
 * Beyond the grace period, what a worker's close still does: abort the unfinished tasks and
 * hand them back (up to 5 s), await pending confirms, say goodbye, close its connections and
 * flush spans. Only past that is the process stopped without finishing its close.
 */
const CLOSE_MARGIN_MS = 15_000;

/** When the entry point stops a worker whose close hangs: the grace period plus the margin. */
export const forceExitMsOf = (shutdownGraceMs: number): number => shutdownGraceMs + CLOSE_MARGIN_MS;

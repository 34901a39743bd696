/**
 * Wires a service's probe server (/metrics, /livez, /readyz) from its config, and the gauges
 * every worker reports at scrape time: tasks running and reserved, and the state of each
 * circuit breaker its `details()` names (the same details its heartbeats carry).
 */
import type { AmqpConnection } from '../amqp/amqp-connection';
import { type ProbeServerConfig, probePort } from '../config/probe-config';
import type { Logger } from '../logging/logger';
import type { Redis } from '../redis/redis-client';
import { addGaugeSource } from '../telemetry/metrics';
import {
  type ProbeServer,
  type ReadinessChecks,
  startProbeServer,
} from '../telemetry/probe-server';
import type { Worker } from '../worker/run-worker';

export function startServiceProbes(options: {
  readonly service: string;
  readonly config: ProbeServerConfig;
  readonly log: Logger;
  readonly readiness: ReadinessChecks;
}): Promise<ProbeServer> {
  return startProbeServer({
    host: options.config.METRICS_HOST,
    port: probePort(options.service, options.config),
    log: options.log,
    readiness: options.readiness,
  });
}

/** Readiness of the usual clients: each AMQP connection connected, Redis ready. */
export function clientReadiness(
  connections: readonly AmqpConnection[],
  redis?: Redis,
): Record<string, boolean> {
  const checks: Record<string, boolean> = {};
  for (const connection of connections) checks[connection.name] = connection.isConnected();
  if (redis) checks.redis = redis.status === 'ready';
  return checks;
}

/** Breaker states as gauge values: 0 closed, 1 half-open, 2 open. */
const BREAKER_STATES: Readonly<Record<string, number>> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * Registers the worker's scrape-time gauges; returns the function that removes them.
 * `details` values equal to `closed`, `half-open` or `open` are read as circuit breakers.
 */
export function addWorkerGauges(
  service: string,
  worker: Worker,
  details: (() => Record<string, unknown>) | undefined,
): () => void {
  const removers = [
    addGaugeSource(
      {
        name: 'tasks_worker_tasks_active',
        help: 'Tasks a worker process is running now',
        labelNames: ['service'],
      },
      (gauge) => gauge.set({ service }, worker.snapshot().active.length),
    ),
    addGaugeSource(
      {
        name: 'tasks_worker_tasks_reserved',
        help: 'Deliveries a worker process holds but has not started (prefetch above concurrency)',
        labelNames: ['service'],
      },
      (gauge) => gauge.set({ service }, worker.snapshot().reserved.length),
    ),
    addGaugeSource(
      {
        name: 'tasks_circuit_breaker_state',
        help: 'Circuit breaker state from the worker details: 0 closed, 1 half-open, 2 open',
        labelNames: ['service', 'breaker'],
      },
      (gauge) => {
        for (const [breaker, state] of Object.entries(details?.() ?? {})) {
          const value = typeof state === 'string' ? BREAKER_STATES[state] : undefined;
          if (value !== undefined) gauge.set({ service, breaker }, value);
        }
      },
    ),
  ];
  return () => removers.forEach((remove) => remove());
}

/** Settings every worker service shares, on top of {@link BaseServiceConfig}. */
import { z } from 'zod';
import { TASK_ISOLATIONS, type TaskIsolation } from '../worker/task-definition';
import { BaseServiceConfig, envInt } from './base-config';
import { ProbeServerConfig } from './probe-config';

/**
 * CONCURRENCY with a service's own default, chosen for what its task types are (short and
 * CPU-light, I/O-bound, heavy) by measurement: bench/README.md, "Defaults per task type". A
 * service's schema spreads it over the shared one. PREFETCH keeps defaulting to CONCURRENCY for
 * every type: deliveries held beyond the handlers would wait on this replica for a slot, however
 * long its tasks take, while other replicas idle and higher priorities queue behind them.
 */
export function workerConcurrency(concurrency: number) {
  return {
    CONCURRENCY: envInt()
      .max(1000)
      .default(concurrency)
      .describe('Tasks one worker process runs at once'),
  };
}

export const WorkerServiceConfig = BaseServiceConfig.extend({
  WORKER_NAME: z
    .string()
    .min(1)
    .optional()
    .describe('Instance name shown in /health; default <service>@<host>-<pid>'),
  ...workerConcurrency(4),
  PREFETCH: envInt()
    .max(10000)
    .optional()
    .describe(
      'Unacked deliveries held at once; default CONCURRENCY (keeps priorities honest). Short tasks: set it several times CONCURRENCY, so finished tasks wait for their confirm without holding a slot',
    ),
  MAX_RETRIES: envInt(0)
    .default(3)
    .describe('Retries after a transient failure (attempts = 1 + this)'),
  RETRY_BASE_MS: envInt().default(10000).describe('Wait before the 2nd attempt, in ms'),
  RETRY_FACTOR: z.coerce
    .number()
    .min(1)
    .default(2)
    .describe('Each further wait is this many times longer'),
  RETRY_JITTER: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(0.1)
    .describe('Up to this fraction is added at random to each wait'),
  RETRY_MAX_DELAY_MS: envInt().default(3_600_000).describe('Longest wait between attempts, in ms'),
  MAX_DELIVERIES: envInt()
    .default(5)
    .describe(
      'Crashes charged to one attempt before it is parked as a crash loop: a task redelivered twice runs alone (crash quarantine), and only a worker that dies under such a lone run is charged to it',
    ),
  TIME_LIMIT_MS: envInt(0)
    .default(0)
    .describe(
      'Hard time limit of an attempt in ms (0: none); keep below consumer_timeout (30 min)',
    ),
  SOFT_TIME_LIMIT_MS: envInt(0)
    .default(0)
    .describe('Soft time limit in ms (0: none): aborts the handler signal so it can clean up'),
  TASK_ISOLATION: taskIsolationMap()
    .optional()
    .describe(
      'Where handlers run, per task type, over what the service chose: comma-separated <routing key>=in-process|thread, e.g. task.report.generate=in-process',
    ),
  ...ProbeServerConfig.shape,
});
export type WorkerServiceConfig = z.infer<typeof WorkerServiceConfig>;

/** `task.a=thread,task.b=in-process` → `{ 'task.a': 'thread', 'task.b': 'in-process' }`. */
function taskIsolationMap() {
  return z.string().transform((text, ctx): Readonly<Record<string, TaskIsolation>> => {
    const map: Record<string, TaskIsolation> = {};
    for (const entry of text
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)) {
      const [type, isolation, ...rest] = entry.split('=').map((part) => part.trim());
      if (!type || rest.length > 0 || !TASK_ISOLATIONS.includes(isolation as TaskIsolation)) {
        ctx.addIssue({
          code: 'custom',
          message: `each entry must be <routing key>=${TASK_ISOLATIONS.join('|')} (got "${entry}")`,
        });
        return z.NEVER;
      }
      map[type] = isolation as TaskIsolation;
    }
    return map;
  });
}

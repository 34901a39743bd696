import { envInt, parseConfig, workerConcurrency, WorkerServiceConfig } from '@tasks/runtime';
import { z } from 'zod';

/**
 * Short, CPU-light tasks (PROCESS_STEP_MS=0: ten steps of microseconds; the original's 1 s steps
 * only sleep): many at once, so the confirm round trips of finished tasks never starve the broker
 * of work. Bounded by memory: up to this many payloads (1 MB at most each) are held at once.
 * Measured: bench/README.md, "Defaults per task type".
 */
const CONCURRENCY_DEFAULT = 50;

/** Every variable is listed in docs/configuration.md; config-docs.test.ts keeps the two in step. */
export const ProcessingWorkerConfig = WorkerServiceConfig.extend({
  ...workerConcurrency(CONCURRENCY_DEFAULT),
  PROCESS_STEPS: envInt().max(10_000).default(10).describe('Steps a processing task is split into'),
  PROCESS_STEP_MS: envInt(0)
    .default(1000)
    .describe('Time each step takes, in ms (the original slept 1 s); 0: no waiting'),
  PROCESS_CRASH_MARKER: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Failure injection: a task whose description equals this kills its worker process (crash-loop tests)',
    ),
});
export type ProcessingWorkerConfig = z.infer<typeof ProcessingWorkerConfig>;

/** Throws ConfigError naming the first bad variable; main.ts prints it and exits 1. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): ProcessingWorkerConfig =>
  parseConfig(ProcessingWorkerConfig, env);

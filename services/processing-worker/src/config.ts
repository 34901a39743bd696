import { envInt, parseConfig, WorkerServiceConfig } from '@tasks/runtime';
import { z } from 'zod';

/** Every variable is listed in docs/configuration.md; config-docs.test.ts keeps the two in step. */
export const ProcessingWorkerConfig = WorkerServiceConfig.extend({
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

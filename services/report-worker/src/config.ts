import { parseConfig, WorkerServiceConfig } from '@tasks/runtime';
import { z } from 'zod';

/** Every variable is listed in docs/configuration.md; config-docs.test.ts keeps the two in step. */
export const ReportWorkerConfig = WorkerServiceConfig.extend({
  REPORTS_DIR: z
    .string()
    .min(1)
    .default('var/reports')
    .describe('Folder report files are written to (served by the gateway)'),
});
export type ReportWorkerConfig = z.infer<typeof ReportWorkerConfig>;

/** Throws ConfigError naming the first bad variable; main.ts prints it and exits 1. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): ReportWorkerConfig =>
  parseConfig(ReportWorkerConfig, env);

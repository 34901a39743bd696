import { parseConfig, WorkerServiceConfig } from '@tasks/runtime';
import { z } from 'zod';

/** Every variable is listed in docs/configuration.md; config-docs.test.ts keeps the two in step. */
export const ReportWorkerConfig = WorkerServiceConfig.extend({
  REPORTS_DIR: z
    .string()
    .min(1)
    .default('var/reports')
    .describe('Folder report files are written to (served by the gateway)'),
  REPORT_RETENTION_DAYS: z.coerce
    .number()
    .min(0)
    .default(7)
    .describe('The cleanup task removes report files older than this'),
  DEAD_LETTER_RETENTION_DAYS: z.coerce
    .number()
    .min(0)
    .default(14)
    .describe('The cleanup task drops dead letters parked longer ago than this'),
  WORKER_REGISTRY_RETENTION_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(3_600_000)
    .describe('The cleanup task forgets workers silent for longer than this'),
});
export type ReportWorkerConfig = z.infer<typeof ReportWorkerConfig>;

/** Throws ConfigError naming the first bad variable; main.ts prints it and exits 1. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): ReportWorkerConfig =>
  parseConfig(ReportWorkerConfig, env);

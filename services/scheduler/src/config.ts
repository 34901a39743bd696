import { BaseServiceConfig, parseConfig } from '@tasks/runtime';
import type { z } from 'zod';

/** Every variable is listed in docs/configuration.md; config-docs.test.ts keeps the two in step. */
export const SchedulerConfig = BaseServiceConfig.extend({});
export type SchedulerConfig = z.infer<typeof SchedulerConfig>;

/** Throws ConfigError naming the first bad variable; main.ts prints it and exits 1. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): SchedulerConfig =>
  parseConfig(SchedulerConfig, env);

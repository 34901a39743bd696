import { envInt, parseConfig, ProbeServerConfig, ProducerServiceConfig } from '@tasks/runtime';
import { z } from 'zod';

/** Every variable is listed in docs/configuration.md; config-docs.test.ts keeps the two in step. */
export const SchedulerConfig = ProducerServiceConfig.extend({
  SCHEDULES_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      "YAML or JSON file of schedules that seeds Redis, each name once (the admin API's changes win); unset: the defaults (hourly cleanup, daily report at 09:00 Europe/Kyiv)",
    ),
  SCHEDULER_TICK_MS: envInt(100)
    .max(60_000)
    .default(1000)
    .describe('How often due schedules are checked, in ms'),
  SCHEDULER_LEASE_MS: envInt(500)
    .max(300_000)
    .default(3000)
    .describe('Leader lease; a standby takes over within about this long after the leader dies'),
  SCHEDULER_ID: z
    .string()
    .min(1)
    .optional()
    .describe('This instance in the leader lease; default <host>-<pid>'),
  ...ProbeServerConfig.shape,
});
export type SchedulerConfig = z.infer<typeof SchedulerConfig>;

/** Throws ConfigError naming the first bad variable; main.ts prints it and exits 1. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): SchedulerConfig =>
  parseConfig(SchedulerConfig, env);

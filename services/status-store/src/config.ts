import { envInt, parseConfig, ProbeServerConfig, ProducerServiceConfig } from '@tasks/runtime';
import { z } from 'zod';

/** Every variable is listed in docs/configuration.md; config-docs.test.ts keeps the two in step. */
export const StatusStoreConfig = ProducerServiceConfig.extend({
  STATUS_PREFETCH: envInt()
    .max(10_000)
    .default(500)
    .describe('Unacked events held at once; they are written to Redis in pipelined batches'),
  STATUS_BATCH_MAX: envInt()
    .max(5_000)
    .default(500)
    .describe('Most events written in one Redis pipeline'),
  REVOKE_TTL_S: envInt()
    .default(30 * 86_400)
    .describe("How long the revocation of a failed workflow's steps is remembered, in seconds"),
  WORKFLOW_FAULT: z
    .enum(['none', 'crash-before-launch', 'crash-before-mark'])
    .default('none')
    .describe(
      'Failure injection (tests): kill this process when it launches workflow steps, before publishing or between the publish and the launched mark',
    ),
  STATUS_PIPELINES: envInt()
    .max(64)
    .default(4)
    .describe(
      'Batches written to Redis at once (1: one after another); each task keeps its latest state either way',
    ),
  ...ProbeServerConfig.shape,
});
export type StatusStoreConfig = z.infer<typeof StatusStoreConfig>;

/** Throws ConfigError naming the first bad variable; main.ts prints it and exits 1. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): StatusStoreConfig =>
  parseConfig(StatusStoreConfig, env);

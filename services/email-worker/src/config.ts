import { envInt, parseConfig, WorkerServiceConfig } from '@tasks/runtime';
import { z } from 'zod';

/** Every variable is listed in docs/configuration.md; config-docs.test.ts keeps the two in step. */
export const EmailWorkerConfig = WorkerServiceConfig.extend({
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional()
    .describe(
      'SMTP server, e.g. smtp://127.0.0.1:1025 for a mail catcher; unset: write .eml files to MAIL_DIR',
    ),
  SMTP_TIMEOUT_MS: envInt().default(10_000).describe('Socket timeout per send, in milliseconds'),
  MAIL_DIR: z
    .string()
    .min(1)
    .default('var/mail')
    .describe('Folder of the .eml files when SMTP_URL is unset'),
  MAIL_FROM: z
    .string()
    .min(3)
    .default('Task Platform <tasks@localhost>')
    .describe('From address of every message'),
  EMAIL_FAILURE_RATE: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe(
      'Share of attempts that fail with a simulated transient provider error before sending (0-1)',
    ),
  EMAIL_FAIL_FIRST_ATTEMPTS: envInt(0)
    .default(0)
    .describe(
      'Fail the first K attempts of every email with a simulated transient error (tests, demos)',
    ),
});
export type EmailWorkerConfig = z.infer<typeof EmailWorkerConfig>;

/** Throws ConfigError naming the first bad variable; main.ts prints it and exits 1. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): EmailWorkerConfig =>
  parseConfig(EmailWorkerConfig, env);

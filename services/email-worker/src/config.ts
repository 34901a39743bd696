import { readFileSync } from 'node:fs';
import {
  ConfigError,
  envBool,
  envInt,
  parseConfig,
  workerConcurrency,
  WorkerServiceConfig,
} from '@tasks/runtime';
import { z } from 'zod';

/**
 * I/O-bound sends (an SMTP round trip, or an .eml file written): enough at once to keep the
 * SMTP pool (SMTP_MAX_CONNECTIONS) busy while others wait on Redis or the broker.
 * Measured: bench/README.md, "Defaults per task type".
 */
const CONCURRENCY_DEFAULT = 16;

/** Every variable is listed in docs/configuration.md; config-docs.test.ts keeps the two in step. */
export const EmailWorkerConfig = WorkerServiceConfig.extend({
  ...workerConcurrency(CONCURRENCY_DEFAULT),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional()
    .describe(
      'SMTP server, e.g. smtp://127.0.0.1:1025 for a mail catcher; unset: write .eml files to MAIL_DIR',
    ),
  SMTP_TIMEOUT_MS: envInt().default(10_000).describe('Socket timeout per send, in milliseconds'),
  SMTP_SECURE: envBool()
    .optional()
    .describe('TLS from the first byte (port 465); default: true for smtps:// URLs, else false'),
  SMTP_REQUIRE_TLS: envBool()
    .default(false)
    .describe('Refuse to send unless STARTTLS upgrades a plain connection'),
  SMTP_TLS_REJECT_UNAUTHORIZED: envBool()
    .default(true)
    .describe('Verify the server certificate; false only for a test server with its own'),
  SMTP_USER: z
    .string()
    .optional()
    .describe('SMTP login; overrides a user in SMTP_URL. Needs SMTP_PASSWORD(_FILE)'),
  SMTP_PASSWORD: z
    .string()
    .optional()
    .describe('SMTP password (never logged); prefer SMTP_PASSWORD_FILE'),
  SMTP_PASSWORD_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('File holding the SMTP password (a mounted secret); its trailing newline is dropped'),
  SMTP_MAX_CONNECTIONS: envInt().default(5).describe('Pooled SMTP connections per worker process'),
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
  EMAIL_BREAKER_THRESHOLD: envInt()
    .default(5)
    .describe(
      'SMTP outages (connection errors, timeouts, 421) within EMAIL_BREAKER_WINDOW_MS that open the circuit breaker',
    ),
  EMAIL_BREAKER_WINDOW_MS: envInt()
    .default(10_000)
    .describe('Window in which the breaker counts SMTP outages, in ms'),
  EMAIL_BREAKER_RESET_MS: envInt()
    .default(30_000)
    .describe('How long the breaker stays open before one probe send (half-open), in ms'),
  EMAIL_RATE_PER_SECOND: z.coerce
    .number()
    .min(0)
    .default(10)
    .describe(
      'Sends per second to one recipient domain, across all workers (0: no limit); on by default, so no key can flood one provider',
    ),
  EMAIL_RATE_BURST: envInt()
    .default(10)
    .describe('Sends to one domain allowed at once before EMAIL_RATE_PER_SECOND paces them'),
});
export type EmailWorkerConfig = z.infer<typeof EmailWorkerConfig>;

/**
 * Parses the environment and resolves SMTP_PASSWORD_FILE into SMTP_PASSWORD.
 *
 * @throws ConfigError naming the first bad variable (never a value); main.ts prints it and exits 1
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): EmailWorkerConfig {
  const parsed = parseConfig(EmailWorkerConfig, env);
  let password = parsed.SMTP_PASSWORD;
  if (parsed.SMTP_PASSWORD_FILE !== undefined) {
    if (password !== undefined) {
      throw new ConfigError('SMTP_PASSWORD and SMTP_PASSWORD_FILE are both set; set only one', [
        'SMTP_PASSWORD',
        'SMTP_PASSWORD_FILE',
      ]);
    }
    password = readSecret(parsed.SMTP_PASSWORD_FILE);
  }
  if (parsed.SMTP_USER !== undefined && password === undefined) {
    throw new ConfigError('SMTP_USER is set without SMTP_PASSWORD or SMTP_PASSWORD_FILE', [
      'SMTP_USER',
    ]);
  }
  return Object.freeze({ ...parsed, SMTP_PASSWORD: password });
}

function readSecret(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `SMTP_PASSWORD_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      ['SMTP_PASSWORD_FILE'],
    );
  }
  const secret = text.replace(/[\r\n]+$/, '');
  if (secret === '') {
    throw new ConfigError(`SMTP_PASSWORD_FILE: ${file} is empty`, ['SMTP_PASSWORD_FILE']);
  }
  return secret;
}

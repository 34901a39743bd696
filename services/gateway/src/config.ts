import { COLLECTION_LIMITS } from '@tasks/contracts';
import { envBool, envInt, parseConfig, ProducerServiceConfig } from '@tasks/runtime';
import { z } from 'zod';

/** Every variable is listed in docs/configuration.md; config-docs.test.ts keeps the two in step. */
export const GatewayConfig = ProducerServiceConfig.extend({
  GATEWAY_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Interface the HTTP API listens on'),
  GATEWAY_PORT: envInt(0)
    .max(65_535)
    .default(8000)
    .describe('Port of the HTTP API (0: any free port)'),
  REPORTS_DIR: z
    .string()
    .min(1)
    .default('var/reports')
    .describe('Folder the report worker writes and the gateway serves'),
  MAX_BODY_BYTES: envInt()
    .default(1_048_576)
    .describe('Largest accepted JSON body, in bytes (larger: 413)'),
  IDEMPOTENCY_TTL_S: envInt()
    .default(86_400)
    .describe('How long an Idempotency-Key is remembered, in seconds'),
  SERIES_INTERVAL_MS: envInt(0)
    .default(10_000)
    .describe(
      'Sample interval of GET /metrics/series (the dashboard charts, an hour kept in memory); 0 turns the series and its event consumer off',
    ),
  SSE_HEARTBEAT_MS: envInt(1000)
    .default(15_000)
    .describe('Interval of keep-alive comments on GET /tasks/{id}/events, so proxies keep it open'),
  API_KEYS: z
    .string()
    .optional()
    .describe(
      'API keys as JSON [{id, sha256, scopes}] (hashes only; docs/SECURITY.md); none: keyless, loopback only',
    ),
  API_KEYS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('File holding the API_KEYS JSON (a mounted secret); instead of API_KEYS'),
  GATEWAY_ALLOW_UNAUTHENTICATED: envBool()
    .default(false)
    .describe(
      'Allow listening beyond loopback without API keys (only behind an authenticating proxy)',
    ),
  GATEWAY_ALLOW_DEVELOPMENT_KEYS: envBool()
    .default(false)
    .describe(
      'Accept the public development API keys (deploy/secrets.example) beyond loopback (a private network only)',
    ),
  RATE_LIMIT_REQUESTS: envInt(0)
    .default(600)
    .describe('Requests each API key may make per RATE_LIMIT_WINDOW_MS (0: no limit); 429 beyond'),
  RATE_LIMIT_WINDOW_MS: envInt(1000)
    .default(60_000)
    .describe('Window of the per-key rate limit, in ms'),
  RATE_LIMIT_LOCAL: envBool()
    .default(false)
    .describe('Also rate-limit the keyless local mode, per client address'),
  CORS_ORIGINS: z
    .string()
    .optional()
    .describe('Comma-separated origins allowed to call the API from a browser; none: no CORS'),
  REVOKE_TTL_S: envInt()
    .default(30 * 86_400)
    .describe('How long a revocation is remembered (must outlast the longest countdown)'),
  WORKFLOW_MAX_STEPS: envInt()
    .max(10_000)
    .default(200)
    .describe(
      'Most steps (tasks) in one POST /workflows, and members of one chain, group or chord header; more: 422',
    ),
  JSON_MAX_DEPTH: envInt()
    .max(1000)
    .default(32)
    .describe(
      'Most nesting levels of arrays and objects in a JSON body, counted on the raw bytes before it is parsed; more: 422',
    ),
  JSON_MAX_KEYS: envInt()
    .default(1000)
    .describe(
      'Most keys of one JSON object in a body, counted on the raw bytes before it is parsed; more: 422',
    ),
  JSON_MAX_ITEMS: envInt()
    .default(100_000)
    .describe(
      'Most items of one JSON array in a body (data.records takes up to 100000), counted before parsing; more: 422',
    ),
  VALIDATION_MAX_ISSUES: envInt()
    .max(COLLECTION_LIMITS.validationIssues)
    .default(50)
    .describe(
      'Most issues one 422 lists; validation stops after them and a last issue says that more were cut',
    ),
  RATE_LIMIT_EMAILS: envInt(0)
    .default(1000)
    .describe(
      'E-mails each API key may create per RATE_LIMIT_EMAILS_WINDOW_MS, single or as workflow steps (0: no limit); 429 beyond',
    ),
  RATE_LIMIT_EMAILS_WINDOW_MS: envInt(1000)
    .default(3_600_000)
    .describe('Window of the per-key e-mail budget, in ms'),
  SSE_MAX_STREAMS: envInt()
    .default(1000)
    .describe('Open GET /tasks/{id}/events streams one gateway serves in all; more: 429'),
  SSE_MAX_STREAMS_PER_KEY: envInt()
    .default(20)
    .describe('Open event streams per API key (keyless mode: not counted), per gateway; more: 429'),
  SSE_MAX_STREAMS_PER_ADDRESS: envInt()
    .default(50)
    .describe('Open event streams per client address, per gateway; more: 429'),
  SSE_MAX_STREAM_MS: envInt(1000)
    .default(1_800_000)
    .describe(
      'Longest life of one event stream, in ms; then it ends and the client reconnects (a new request)',
    ),
  GATEWAY_MAX_CONNECTIONS: envInt()
    .default(4096)
    .describe('Open TCP connections the HTTP server accepts at once (server.maxConnections)'),
  WORKFLOW_MAX_DEPTH: envInt()
    .max(50)
    .default(5)
    .describe(
      'Most nesting levels of chain/group/chord in one workflow (the top counts 1); more: 422',
    ),
  JAEGER_UI_URL: z
    .url()
    .optional()
    .describe(
      "Jaeger's UI, e.g. http://127.0.0.1:16686: GET /tasks/{id}/history links the task's trace there",
    ),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;

/** Throws ConfigError naming the first bad variable; main.ts prints it and exits 1. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig =>
  parseConfig(GatewayConfig, env);

/**
 * Settings every service shares. Each service extends this schema with its own;
 * every variable has a description and a default, and docs/configuration.md lists them all
 * (config-docs.test.ts keeps the two in step).
 */
import { z } from 'zod';
import { LOG_LEVELS } from '../logging/logger';
import { RedisSentinelConfig } from './redis-sentinel-config';
import { amqpUrlProblems } from './amqp-urls';
import {
  DEFAULT_INSTRUMENTATIONS,
  listedInstrumentations,
  REFUSED_INSTRUMENTATIONS,
} from '../telemetry/enabled-instrumentations';

/**
 * The longest timer Node keeps (2^31 - 1 ms, about 24.8 days): a longer one fires after 1 ms,
 * so a setting beyond it would silently mean "at once".
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A positive integer from an env string; no setting goes beyond what a timer can wait. */
export const envInt = (min = 1) => z.coerce.number().int().min(min).max(MAX_TIMER_MS);

/** `true/false/1/0/yes/no` from an env string. */
export const envBool = () =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const TRACE_EXPORTERS: readonly string[] = ['otlp', 'console', 'none'];
const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;

export const BaseServiceConfig = z.object({
  AMQP_URL: z
    .string()
    .superRefine((value, ctx) => {
      for (const message of amqpUrlProblems(value)) ctx.addIssue({ code: 'custom', message });
    })
    .default('amqp://guest:guest@127.0.0.1:5672')
    .describe(
      "RabbitMQ connection URL (with vhost, e.g. amqp://user:pass@host:5672/tasks); for a cluster, its nodes' URLs comma-separated: the service connects to the first that answers and moves to another when its node goes away",
    ),
  AMQP_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]*$/, 'may hold only letters, digits, - and _')
    .default('')
    .describe('Prefix of every exchange and queue name (isolates test runs); empty in production'),
  AMQP_HEARTBEAT_S: envInt()
    .default(5)
    .describe('AMQP heartbeat in seconds; a dead connection is noticed after about 3 of them'),
  AMQP_DECLARE_TOPOLOGY: envBool()
    .default(true)
    .describe('Declare the topology on every connect; false when a deploy user declared it'),
  PUBLISH_TIMEOUT_MS: envInt()
    .default(5000)
    .describe('How long a publish waits for the broker confirm before it counts as failed'),
  WORK_QUEUE_TYPE: z
    .enum(['classic', 'quorum'])
    .default('classic')
    .describe(
      'Type of the work, event and parking queues: classic (one node; broker priorities) or quorum (replicated on a cluster, 3 replicas; priority 5-9 takes a high lane the workers drain first)',
    ),
  DELAY_UNIT_MS: envInt()
    .default(100)
    .describe('Wait of the shortest delay level, in ms: delays are rounded up to a multiple'),
  DELAY_LEVELS: envInt()
    .max(32)
    .default(24)
    .describe('Number of binary delay levels; the longest delay is DELAY_UNIT_MS * (2^levels - 1)'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379')
    .describe(
      'Redis connection URL (rediss:// for TLS; user and password as in redis://user:pass@host:6379/0)',
    ),
  REDIS_PREFIX: z
    .string()
    .default('tasks:')
    .describe('Prefix of every Redis key this platform writes'),
  ...RedisSentinelConfig.shape,
  RESULT_TTL_S: envInt()
    .default(3600)
    .describe(
      'How long a task record is kept after it finished (its terminal state), in seconds (Celery: 1 h)',
    ),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info').describe('Log level of the JSON log lines'),
  // Tracing starts before the configuration is parsed (instrumentation.ts reads these itself);
  // they are here so that a misspelt value stops the service by name instead of silently
  // turning tracing off or picking another protocol.
  OTEL_TRACES_EXPORTER: z
    .string()
    .refine(
      (names) => names.split(',').every((n) => TRACE_EXPORTERS.includes(n.trim())),
      `must be a comma-separated list of ${TRACE_EXPORTERS.join(', ')}`,
    )
    .default('none')
    .describe('Where spans go: otlp, console (both, comma-separated) or none (tracing off)'),
  OTEL_EXPORTER_OTLP_PROTOCOL: z
    .enum(OTLP_PROTOCOLS)
    .default('http/protobuf')
    .describe('OTLP protocol of every signal: http/protobuf, http/json or grpc'),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z
    .enum(OTLP_PROTOCOLS)
    .optional()
    .describe('OTLP protocol of traces; OTEL_EXPORTER_OTLP_PROTOCOL when unset'),
  OTEL_NODE_ENABLED_INSTRUMENTATIONS: z
    .string()
    .superRefine((value, ctx) => {
      for (const name of listedInstrumentations(value)) {
        const reason = REFUSED_INSTRUMENTATIONS[name];
        if (reason) ctx.addIssue({ code: 'custom', message: `${name} is not allowed: ${reason}` });
      }
    })
    .optional()
    .describe(
      `Instrumentations of @opentelemetry/auto-instrumentations-node enabled with tracing on, by short name, comma-separated (e.g. http,express,ioredis,dns); unset: ${DEFAULT_INSTRUMENTATIONS.join(',')}. amqplib is refused: the runtime makes the AMQP spans itself`,
    ),
  SHUTDOWN_GRACE_MS: envInt()
    .default(25000)
    .describe(
      'On SIGTERM, how long in-flight work may finish before it is handed back; a worker process is stopped anyway 15 s after it if its close hangs',
    ),
  WORKER_HEARTBEAT_MS: envInt()
    .default(5000)
    .describe('Interval of worker heartbeats; a worker silent for 3 of them is offline'),
});
export type BaseServiceConfig = z.infer<typeof BaseServiceConfig>;

/** What a service that creates tasks (gateway, scheduler, status-store's workflow steps) adds. */
export const CommandProducerConfig = z.object({
  COMMAND_BATCH_MAX: envInt()
    .min(1)
    .max(1000)
    .default(1)
    .describe(
      'Commands one AMQP message may carry: a producer (gateway, scheduler, workflow steps) puts those of one type and priority published in one turn together, up to this many, and within 1 MiB of body and 32 KiB of per-command headers. 1: one message each. A task type may set a lower ceiling of its own (commandBatchMax in contracts/src/task-types.ts; reports and cleanups: 1). Raise it for short task types only: one worker takes a whole message',
    ),
});

/** A service that creates tasks: the base settings and the producer's. */
export const ProducerServiceConfig = BaseServiceConfig.extend(CommandProducerConfig.shape);

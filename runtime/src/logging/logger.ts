/**
 * JSON-lines logging (pino): a constant message plus a fields object, never ids interpolated
 * into the message. Credentials are redacted by path and censored inside URLs. A line written
 * inside a trace carries `trace_id` and `span_id`.
 */
import { trace } from '@opentelemetry/api';
import pino from 'pino';
import { ConfigError } from '../errors';

type LogFn = (msg: string, fields?: Record<string, unknown>) => void;

/** The logger every module takes: `log.info('message', { fields })`. */
export interface Logger {
  readonly trace: LogFn;
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
  readonly fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
  isLevelEnabled(level: string): boolean;
  flush(): void;
}

/** Log keys used across services; one place, so dashboards and tests agree. */
export const LogKeys = {
  taskId: 'task_id',
  taskType: 'task_type',
  attempt: 'attempt',
  worker: 'worker',
  service: 'service',
  /** The active trace and span (W3C ids, hex), on lines written inside a trace. */
  traceId: 'trace_id',
  spanId: 'span_id',
} as const;

/** The levels LOG_LEVEL may name (pino's), quietest last. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const isLogLevel = (value: string): value is LogLevel =>
  (LOG_LEVELS as readonly string[]).includes(value);

/**
 * The level of the logger a service starts with, before its configuration is parsed: LOG_LEVEL
 * when it is a level, else `info`, so that the configuration check can report a bad LOG_LEVEL
 * by name (through this logger) instead of the logger failing first.
 */
export function startupLogLevel(value: string | undefined): LogLevel {
  return value && isLogLevel(value) ? value : 'info';
}

export interface LoggerOptions {
  readonly service: string;
  readonly level: string;
  /** Where lines go; stdout by default. */
  readonly destination?: pino.DestinationStream;
}

/** A root logger for one service. */
export function createLogger(options: LoggerOptions): Logger {
  if (!isLogLevel(options.level)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`, ['LOG_LEVEL']);
  }
  const pinoOptions: pino.LoggerOptions = {
    level: options.level,
    base: { service: options.service, pid: process.pid },
    messageKey: 'msg',
    redact: {
      paths: [
        'password',
        '*.password',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'headers["x-api-key"]',
        'apiKey',
        '*.apiKey',
      ],
      censor: '[redacted]',
    },
    formatters: { level: (label, number) => ({ level: number, level_name: label }) },
    // The active span's ids (nothing outside a trace, or with tracing off).
    mixin: () => activeTraceFields(),
    hooks: {
      // House style is log.info('message', { fields }); pino wants (fields, message).
      logMethod(args, method) {
        const [first, second, ...rest] = args as unknown[];
        if (typeof first === 'string' && typeof second === 'object' && second !== null) {
          return method.apply(this, [second, first, ...rest] as Parameters<typeof method>);
        }
        return method.apply(this, args);
      },
    },
  };
  // Synchronous stdout (pino's default): no line is lost when the process exits.
  const logger = options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
  // The logMethod hook above makes pino's (fields, msg) order accept ours.
  return logger;
}

/** The active span's ids as log fields; empty outside a trace (and always with tracing off). */
export function activeTraceFields(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return {};
  return { [LogKeys.traceId]: spanContext.traceId, [LogKeys.spanId]: spanContext.spanId };
}

/**
 * A URL with its password replaced, safe to log: `amqp://user:***@host:5672`. Never trusts a
 * URL parser: a password holding `/`, `?`, `#` or `@` unencoded makes a URL fail to parse, or
 * parse with the rest of the password in its path. So everything between the user name and the
 * last `@` is masked; without any `@`, a `user:password` that lost its host is masked whole.
 * (The launcher's redactUrl follows the same rule.)
 */
export function censorUrl(url: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url)?.[0] ?? '';
  const rest = url.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userInfo = rest.slice(0, at);
    const colon = userInfo.indexOf(':');
    if (colon < 0 && !/[/?#]/.test(userInfo)) return url; // a user name without password
    const user = colon < 0 ? '' : userInfo.slice(0, colon);
    return `${scheme}${user}:***@${rest.slice(at + 1)}`;
  }
  // Only a port may follow a colon (IPv6 addresses in brackets aside).
  const authority = rest.split(/[/?#]/, 1)[0]?.replace(/\[[^\]]*\]/g, '') ?? '';
  return /:(?!\d*$)/.test(authority) ? `${scheme}***` : url;
}

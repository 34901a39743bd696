/**
 * Settings are parsed once from the environment: defaults for what is
 * unset, empty strings count as unset, a bad value throws ConfigError naming the variable and
 * never echoing the value (it may be a secret).
 */
import { BaseServiceConfig, MAX_TIMER_MS } from '../src/config/base-config';
import { parseConfig } from '../src/config/parse-config';
import { WorkerServiceConfig } from '../src/config/worker-config';
import { type ConfigError, errorCode } from '../src/errors';
import { createLogger, startupLogLevel } from '../src/logging/logger';

/** Runs `fn`, which must throw a ConfigError, and returns it. */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(errorCode(err)).toBe('CONFIG_INVALID');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('fills every base setting with its default', () => {
    expect(parseConfig(BaseServiceConfig, {})).toEqual({
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
      AMQP_PREFIX: '',
      AMQP_HEARTBEAT_S: 5,
      AMQP_DECLARE_TOPOLOGY: true,
      PUBLISH_TIMEOUT_MS: 5000,
      WORK_QUEUE_TYPE: 'classic',
      DELAY_UNIT_MS: 100,
      DELAY_LEVELS: 24,
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'tasks:',
      REDIS_WAIT_TIMEOUT_MS: 1000,
      RESULT_TTL_S: 3600,
      LOG_LEVEL: 'info',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      SHUTDOWN_GRACE_MS: 25000,
      WORKER_HEARTBEAT_MS: 5000,
    });
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(parseConfig(BaseServiceConfig, {}))).toBe(true);
  });

  it('reads and converts values from the environment', () => {
    const config = parseConfig(BaseServiceConfig, {
      AMQP_URL: 'amqps://u:p@rabbit:5671/tasks',
      AMQP_HEARTBEAT_S: '10',
      AMQP_DECLARE_TOPOLOGY: 'no',
      WORK_QUEUE_TYPE: 'quorum',
    });
    expect(config).toMatchObject({
      AMQP_URL: 'amqps://u:p@rabbit:5671/tasks',
      AMQP_HEARTBEAT_S: 10,
      AMQP_DECLARE_TOPOLOGY: false,
      WORK_QUEUE_TYPE: 'quorum',
    });
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('reads the boolean %j as %s', (value, expected) => {
    expect(
      parseConfig(BaseServiceConfig, { AMQP_DECLARE_TOPOLOGY: value }).AMQP_DECLARE_TOPOLOGY,
    ).toBe(expected);
  });

  it('treats an empty string as unset', () => {
    const config = parseConfig(WorkerServiceConfig, {
      AMQP_URL: '',
      AMQP_HEARTBEAT_S: '',
      WORKER_NAME: '',
      PREFETCH: '',
    });
    expect(config.AMQP_URL).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(config.AMQP_HEARTBEAT_S).toBe(5);
    expect(config.WORKER_NAME).toBeUndefined();
    expect(config.PREFETCH).toBeUndefined();
  });

  it('ignores variables the schema does not name', () => {
    const config = parseConfig(BaseServiceConfig, { PATH: '/usr/bin', SMTP_URL: 'nonsense' });
    expect(config).not.toHaveProperty('PATH');
    expect(config).not.toHaveProperty('SMTP_URL');
  });

  it.each([
    ['AMQP_URL', 'http://user:secret@x'],
    ['REDIS_URL', 'http://user:secret@y:6379'],
    ['AMQP_PREFIX', 'secret/prefix'],
    ['AMQP_HEARTBEAT_S', 'secret'],
    ['AMQP_DECLARE_TOPOLOGY', 'secret'],
    ['WORK_QUEUE_TYPE', 'secret'],
    ['LOG_LEVEL', 'secret'],
    ['OTEL_TRACES_EXPORTER', 'otlp,secret'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'secret'],
    ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'secret'],
  ])('names %s in the error and never shows its bad value', (variable, value) => {
    const err = configErrorOf(() => parseConfig(BaseServiceConfig, { [variable]: value }));
    expect(err.message).toContain(variable);
    expect(err.message).not.toContain('secret');
    expect(err.variables).toEqual([variable]);
  });

  it('refuses a duration longer than a timer can wait (Node would fire it at once)', () => {
    const err = configErrorOf(() =>
      parseConfig(BaseServiceConfig, { PUBLISH_TIMEOUT_MS: String(MAX_TIMER_MS + 1) }),
    );
    expect(err.variables).toEqual(['PUBLISH_TIMEOUT_MS']);
    expect(
      parseConfig(BaseServiceConfig, { PUBLISH_TIMEOUT_MS: String(MAX_TIMER_MS) }),
    ).toMatchObject({ PUBLISH_TIMEOUT_MS: MAX_TIMER_MS });
  });

  it('accepts the trace exporters and protocols tracing knows', () => {
    expect(
      parseConfig(BaseServiceConfig, {
        OTEL_TRACES_EXPORTER: 'otlp, console',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
      }),
    ).toMatchObject({
      OTEL_TRACES_EXPORTER: 'otlp, console',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
    });
  });

  it('names every bad variable at once', () => {
    const err = configErrorOf(() =>
      parseConfig(BaseServiceConfig, { AMQP_URL: 'http://x', DELAY_LEVELS: '33', LOG_LEVEL: '' }),
    );
    expect([...err.variables].sort()).toEqual(['AMQP_URL', 'DELAY_LEVELS']);
    expect(err.message).toMatch(/AMQP_URL.*DELAY_LEVELS|DELAY_LEVELS.*AMQP_URL/);
  });

  it('throws a ConfigError with its name and code', () => {
    const err = configErrorOf(() => parseConfig(BaseServiceConfig, { AMQP_HEARTBEAT_S: '0' }));
    expect(err.name).toBe('ConfigError');
    expect(err.code).toBe('CONFIG_INVALID');
  });
});

describe('WorkerServiceConfig', () => {
  it('defaults to 4 at once, 3 retries waiting 10 s doubling with 10 % jitter', () => {
    expect(parseConfig(WorkerServiceConfig, {})).toMatchObject({
      CONCURRENCY: 4,
      MAX_RETRIES: 3,
      RETRY_BASE_MS: 10_000,
      RETRY_FACTOR: 2,
      RETRY_JITTER: 0.1,
      RETRY_MAX_DELAY_MS: 3_600_000,
      MAX_DELIVERIES: 5,
      TIME_LIMIT_MS: 0,
      SOFT_TIME_LIMIT_MS: 0,
    });
  });

  it('leaves PREFETCH and WORKER_NAME unset by default', () => {
    const config = parseConfig(WorkerServiceConfig, {});
    expect(config.PREFETCH).toBeUndefined();
    expect(config.WORKER_NAME).toBeUndefined();
  });

  it('reads numbers from strings, fractions where the setting allows them', () => {
    expect(
      parseConfig(WorkerServiceConfig, {
        CONCURRENCY: '16',
        MAX_RETRIES: '0',
        RETRY_FACTOR: '1.5',
        RETRY_JITTER: '0',
        TIME_LIMIT_MS: '60000',
      }),
    ).toMatchObject({
      CONCURRENCY: 16,
      MAX_RETRIES: 0,
      RETRY_FACTOR: 1.5,
      RETRY_JITTER: 0,
      TIME_LIMIT_MS: 60_000,
    });
  });

  it.each([
    ['CONCURRENCY', '0'],
    ['CONCURRENCY', '2.5'],
    ['CONCURRENCY', '1001'],
    ['MAX_RETRIES', '-1'],
    ['RETRY_FACTOR', '0.5'],
    ['RETRY_JITTER', '1.5'],
    ['RETRY_BASE_MS', 'ten'],
    ['PREFETCH', '0'],
  ])('rejects %s=%s', (variable, value) => {
    const err = configErrorOf(() => parseConfig(WorkerServiceConfig, { [variable]: value }));
    expect(err.variables).toEqual([variable]);
  });
});

describe('the start-up logger', () => {
  it('starts at LOG_LEVEL when it is a level, else at info for the config check to name it', () => {
    expect(startupLogLevel('debug')).toBe('debug');
    expect(startupLogLevel('verbose')).toBe('info');
    expect(startupLogLevel(undefined)).toBe('info');
  });

  it('refuses an unknown level with a ConfigError naming LOG_LEVEL', () => {
    const err = configErrorOf(() => createLogger({ service: 'test', level: 'verbose' }));
    expect(err.variables).toEqual(['LOG_LEVEL']);
    expect(err.message).toMatch(/^LOG_LEVEL must be one of trace, debug/);
  });
});

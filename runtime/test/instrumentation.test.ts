/**
 * When tracing starts, under which service name, and that every service loads the SDK before
 * anything else (CommonJS runs requires in order: an import after http or ioredis would leave
 * them unpatched).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BaseServiceConfig } from '../src/config/base-config';
import { enabledInstrumentations } from '../src/telemetry/enabled-instrumentations';
import { defaultServiceName, tracingRequested } from '../src/telemetry/instrumentation';

const SERVICES_DIR = join(__dirname, '..', '..', 'services');

describe('tracingRequested', () => {
  it.each([
    [{}, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp,console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none' }, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'false' }, true],
  ])('reads %j as %s', (env, expected) => {
    expect(tracingRequested(env)).toBe(expected);
  });
});

describe('defaultServiceName', () => {
  it('names a service after its folder', () => {
    expect(defaultServiceName('/app/services/email-worker/dist/main.js', {})).toBe(
      'tasks-email-worker',
    );
  });

  it('falls back to $SERVICE, then the script name', () => {
    expect(defaultServiceName('/x/main.js', { SERVICE: 'gateway' })).toBe('tasks-gateway');
    expect(defaultServiceName('/x/main.js', {})).toBe('tasks-main');
  });
});

describe('enabledInstrumentations', () => {
  it.each([
    [{}, 'http,express,ioredis'],
    [{ OTEL_NODE_ENABLED_INSTRUMENTATIONS: '' }, 'http,express,ioredis'],
    [{ OTEL_NODE_ENABLED_INSTRUMENTATIONS: ' http , dns,' }, 'http,dns'],
    [{ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,amqplib,ioredis' }, 'http,ioredis'],
    [{ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'amqplib' }, ''],
  ])('reads %j as %j', (env, expected) => {
    expect(enabledInstrumentations(env)).toBe(expected);
  });

  it('is refused by the configuration when it names amqplib, with the reason', () => {
    const parsed = BaseServiceConfig.safeParse({
      OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,amqplib',
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({
      path: ['OTEL_NODE_ENABLED_INSTRUMENTATIONS'],
      message: expect.stringContaining('amqplib is not allowed'),
    });
    expect(
      BaseServiceConfig.safeParse({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,dns' }).success,
    ).toBe(true);
  });
});

describe('service entry points', () => {
  const services = readdirSync(SERVICES_DIR);

  it.each(services)('%s imports the instrumentation before anything else', (service) => {
    const source = readFileSync(join(SERVICES_DIR, service, 'src', 'main.ts'), 'utf8');
    const firstImport = /^import\s.*$/m.exec(source)?.[0];
    expect(firstImport).toBe("import '@tasks/runtime/instrumentation';");
  });
});

import * as path from 'node:path';
import {
  amqpNodeUrls,
  DEFAULT_AMQP_URL,
  DEFAULT_REDIS_URL,
  gatewayUrl,
  loadConfig,
} from '../src/config';
import { redactUrl, redactUrlList } from '../src/redact-url';
import { assertBuilt } from '../src/service-entry';

const options = { defaultRootDir: '/repo', stdoutIsTTY: true };

function configError(env: NodeJS.ProcessEnv): { code: string; variable: string; message: string } {
  try {
    loadConfig(env, options);
  } catch (err) {
    return err as { code: string; variable: string; message: string };
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    expect(loadConfig({}, options)).toEqual({
      rootDir: '/repo',
      amqpUrl: DEFAULT_AMQP_URL,
      redisUrl: DEFAULT_REDIS_URL,
      gatewayHost: '127.0.0.1',
      gatewayPort: 8000,
      graceMs: 35_000,
      logFormat: 'pretty',
      color: true,
    });
  });

  it('reads every variable it documents', () => {
    const config = loadConfig(
      {
        AMQP_URL: 'amqps://u:p@mq:5671/vh',
        REDIS_URL: 'redis://:pw@cache:6380/2',
        GATEWAY_HOST: '0.0.0.0',
        GATEWAY_PORT: '8080',
        LAUNCHER_GRACE_MS: '0',
        LOG_FORMAT: 'JSON',
        LAUNCHER_ROOT: '/tmp/fake',
      },
      options,
    );
    expect(config).toMatchObject({
      rootDir: '/tmp/fake',
      amqpUrl: 'amqps://u:p@mq:5671/vh',
      redisUrl: 'redis://:pw@cache:6380/2',
      gatewayHost: '0.0.0.0',
      gatewayPort: 8080,
      graceMs: 0,
      logFormat: 'json',
    });
  });

  it('turns colour off when NO_COLOR is set or stdout is not a TTY', () => {
    expect(loadConfig({ NO_COLOR: '1' }, options).color).toBe(false);
    expect(loadConfig({ NO_COLOR: '' }, options).color).toBe(true);
    expect(loadConfig({}, { ...options, stdoutIsTTY: false }).color).toBe(false);
  });

  it.each([
    [
      { GATEWAY_PORT: 'abc' },
      'GATEWAY_PORT',
      'GATEWAY_PORT must be an integer from 1 to 65535 (got "abc")',
    ],
    [{ GATEWAY_PORT: '70000' }, 'GATEWAY_PORT', 'got "70000"'],
    [{ LAUNCHER_GRACE_MS: '-5' }, 'LAUNCHER_GRACE_MS', 'LAUNCHER_GRACE_MS must be an integer'],
    [{ AMQP_URL: 'http://x' }, 'AMQP_URL', 'AMQP_URL must start with amqp:// or amqps://'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL', 'REDIS_URL must be a URL'],
  ])('rejects %j naming the variable', (env, variable, message) => {
    const err = configError(env);
    expect(err.code).toBe('LAUNCHER_CONFIG');
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(message);
  });

  it('masks the password of a rejected URL', () => {
    const err = configError({ AMQP_URL: 'http://user:hunter2@host' });
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toContain('user:***@');
  });
});

describe('redactUrl', () => {
  it.each([
    ['amqp://guest:guest@127.0.0.1:5672', 'amqp://guest:***@127.0.0.1:5672'],
    ['redis://:secret@127.0.0.1:6379', 'redis://:***@127.0.0.1:6379'],
    ['redis://alice:s%40cret@cache:6379/1', 'redis://alice:***@cache:6379/1'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['weird://u:p@ss w@host', 'weird://u:***@host'],
    // A `/` or `@` in a password (not percent-encoded): the URL does not parse, or parses wrong.
    ['amqp://worker:pa/ss@rabbit:5672/tasks', 'amqp://worker:***@rabbit:5672/tasks'],
    ['amqp://worker:12/secret@rabbit:5672/tasks', 'amqp://worker:***@rabbit:5672/tasks'],
    ['amqp://worker:a@b/c@rabbit/tasks', 'amqp://worker:***@rabbit/tasks'],
    // A user and password that lost their host.
    ['amqp://worker:s3cret', 'amqp://***'],
    ['redis://[::1]:6379', 'redis://[::1]:6379'],
  ])('%s → %s', (raw, shown) => {
    expect(redactUrl(raw)).toBe(shown);
  });
});

describe('gatewayUrl', () => {
  it('shows a reachable address for wildcard hosts and brackets IPv6', () => {
    expect(gatewayUrl('127.0.0.1', 8000)).toBe('http://127.0.0.1:8000');
    expect(gatewayUrl('0.0.0.0', 8000)).toBe('http://127.0.0.1:8000');
    expect(gatewayUrl('::1', 9000)).toBe('http://[::1]:9000');
  });
});

describe('assertBuilt', () => {
  it('names every missing entry point relative to the root', () => {
    const present = new Set([path.join('/r', 'services', 'gateway', 'dist', 'main.js')]);
    let caught: { code: string; missing: string[]; message: string } | undefined;
    try {
      assertBuilt('/r', ['gateway', 'scheduler', 'email-worker'], (f) => present.has(f));
    } catch (err) {
      caught = err as typeof caught;
    }
    expect(caught?.code).toBe('LAUNCHER_NOT_BUILT');
    expect(caught?.missing).toEqual([
      '/r/services/scheduler/dist/main.js',
      '/r/services/email-worker/dist/main.js',
    ]);
    expect(caught?.message).toContain('services/scheduler/dist/main.js');
    expect(caught?.message).toContain('npm run build');
  });

  it('passes when every entry point exists', () => {
    expect(() => assertBuilt('/r', ['gateway'], () => true)).not.toThrow();
  });
});

describe('AMQP_URL naming a cluster', () => {
  const CLUSTER = 'amqp://svc:s3cret@rabbit-1:5672/tasks, amqp://svc:s3cret@rabbit-2:5672/tasks';

  it('accepts a comma-separated list of node URLs as given', () => {
    const config = loadConfig(
      { AMQP_URL: CLUSTER },
      { defaultRootDir: '/repo', stdoutIsTTY: false },
    );
    expect(config.amqpUrl).toBe(CLUSTER);
    expect(amqpNodeUrls(config.amqpUrl)).toEqual([
      'amqp://svc:s3cret@rabbit-1:5672/tasks',
      'amqp://svc:s3cret@rabbit-2:5672/tasks',
    ]);
  });

  it.each([
    [
      `${CLUSTER},http://svc:s3cret@x`,
      'AMQP_URL element 3 of 3 must start with amqp:// or amqps://',
    ],
    [`${CLUSTER},`, 'AMQP_URL element 3 of 3 is empty'],
    ['amqp://svc:s3cret@a,amqp://svc:s3cret@b:99999', 'AMQP_URL element 2 of 2 must be a URL'],
  ])('rejects %s naming the bad element, password masked', (value, message) => {
    const err = configError({ AMQP_URL: value });
    expect(err.variable).toBe('AMQP_URL');
    expect(err.message).toContain(message);
    expect(err.message).not.toContain('s3cret');
  });

  it('masks the password of every node in a shown list', () => {
    expect(redactUrlList(CLUSTER)).toBe(
      'amqp://svc:***@rabbit-1:5672/tasks,amqp://svc:***@rabbit-2:5672/tasks',
    );
  });
});

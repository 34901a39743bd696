/**
 * The Redis check behind Sentinel, against stand-ins: a sentinel that names (or does not know)
 * the master, and a Redis that answers PING. The real sentinels are exercised by
 * system-test/redis-sentinel.test.ts.
 */
import { ConfigError } from '../src/errors';
import { loadConfig } from '../src/config';
import { checkRedisSentinel } from '../src/preflight';
import { closedPort, startFakeServer, type FakeServer } from './fake-server';

/** Answers SENTINEL GET-MASTER-ADDR-BY-NAME for `name` with `master`; AUTH with `password`. */
function fakeSentinel(
  name: string,
  master: { host: string; port: number },
  password?: string,
): Promise<FakeServer> {
  return startFakeServer((socket, received) => {
    const text = received.toString('utf8');
    if (!text.endsWith('\r\n') || !text.includes('GET-MASTER-ADDR-BY-NAME')) return;
    if (password !== undefined) {
      if (!text.includes(`$${password.length}\r\n${password}\r\n`)) {
        socket.write('-WRONGPASS invalid username-password pair\r\n');
        return;
      }
      socket.write('+OK\r\n');
    }
    if (!text.includes(`\r\n${name}\r\n`)) {
      socket.write('*-1\r\n');
      return;
    }
    const port = String(master.port);
    socket.write(
      `*2\r\n$${master.host.length}\r\n${master.host}\r\n$${port.length}\r\n${port}\r\n`,
    );
  });
}

/** A Redis that answers PING, after AUTH with `pass` when one is given. */
function fakeRedis(pass?: string): Promise<FakeServer> {
  return startFakeServer((socket, received) => {
    const text = received.toString('utf8');
    if (!text.endsWith('PING\r\n')) return;
    if (pass === undefined) socket.write('+PONG\r\n');
    else socket.write(text.includes(pass) ? '+OK\r\n+PONG\r\n' : '-WRONGPASS\r\n');
  });
}

describe('checkRedisSentinel', () => {
  const servers: FakeServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('checks the master the sentinels name, with REDIS_URL credentials, masked', async () => {
    const redis = await fakeRedis('s3cret');
    const sentinel = await fakeSentinel('tasks', { host: '127.0.0.1', port: redis.port });
    servers.push(redis, sentinel);
    const down = await closedPort();
    const result = await checkRedisSentinel('redis://:s3cret@ignored:1', {
      sentinels: [
        { host: '127.0.0.1', port: down },
        { host: '127.0.0.1', port: sentinel.port },
      ],
      masterName: 'tasks',
    });
    expect(result.ok).toBe(true);
    expect(result.message).toBe(
      `Redis answers at redis://:***@127.0.0.1:${redis.port} (master "tasks" according to sentinel 127.0.0.1:${sentinel.port})`,
    );
  });

  it('fails naming each sentinel when none knows the master', async () => {
    const sentinel = await fakeSentinel('other', { host: '127.0.0.1', port: 1 });
    servers.push(sentinel);
    const result = await checkRedisSentinel('redis://127.0.0.1:6379', {
      sentinels: [{ host: '127.0.0.1', port: sentinel.port }],
      masterName: 'tasks',
    });
    expect(result.ok).toBe(false);
    expect(result.message).toBe(
      `Redis Sentinel check failed: no sentinel named the master "tasks": 127.0.0.1:${sentinel.port} does not know the tasks master`,
    );
    expect(result.hints[0]).toContain('REDIS_MASTER_NAME');
  });

  it('authenticates to the sentinels with REDIS_SENTINEL_PASSWORD, never printing it', async () => {
    const redis = await fakeRedis();
    const sentinel = await fakeSentinel('tasks', { host: '127.0.0.1', port: redis.port }, 'pw1');
    servers.push(redis, sentinel);
    const target = { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], masterName: 'tasks' };
    const wrong = await checkRedisSentinel('redis://127.0.0.1', { ...target, password: 'nope' });
    expect(wrong.ok).toBe(false);
    expect(wrong.message).toContain('refused: WRONGPASS');
    expect(wrong.message).not.toContain('nope');
    const right = await checkRedisSentinel('redis://127.0.0.1', { ...target, password: 'pw1' });
    expect(right.ok).toBe(true);
  });
});

describe('loadConfig with Redis Sentinel', () => {
  const options = { defaultRootDir: '/repo', stdoutIsTTY: false };

  it('reads REDIS_SENTINELS, REDIS_MASTER_NAME and REDIS_SENTINEL_PASSWORD', () => {
    const config = loadConfig(
      {
        REDIS_SENTINELS: 's1:26379, [::1]:26380',
        REDIS_MASTER_NAME: 'tasks',
        REDIS_SENTINEL_PASSWORD: 'pw',
      },
      options,
    );
    expect(config.redisSentinel).toEqual({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      masterName: 'tasks',
      password: 'pw',
    });
    expect(loadConfig({}, options).redisSentinel).toBeUndefined();
  });

  it.each([
    [{ REDIS_SENTINELS: 's1:26379' }, 'REDIS_MASTER_NAME'],
    [{ REDIS_MASTER_NAME: 'tasks' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1', REDIS_MASTER_NAME: 'tasks' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:99999', REDIS_MASTER_NAME: 'tasks' }, 'REDIS_SENTINELS'],
  ])('refuses %j naming %s', (env, variable) => {
    let thrown: unknown;
    try {
      loadConfig(env, options);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
    expect((thrown as ConfigError).message).toContain(variable);
  });
});

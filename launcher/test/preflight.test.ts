/**
 * The preflight checks against tiny local servers that answer like Redis or RabbitMQ (or not).
 * Each test closes the servers it starts.
 */
import {
  assertPreflight,
  checkAmqp,
  checkAmqpNodes,
  checkPortFree,
  checkRedis,
  formatPreflightFailures,
  runPreflight,
} from '../src/preflight';
import { closedPort, startFakeServer, type FakeServer } from './fake-server';

const AMQP_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');
// connection.start: method frame (1), channel 0, then class 10 / method 10 and a truncated body.
const CONNECTION_START = Buffer.from([1, 0, 0, 0, 0, 0, 4, 0, 10, 0, 10, 0xce]);

/** Parses complete RESP commands (arrays of bulk strings, or inline) from a byte buffer. */
function respCommands(received: Buffer): string[][] {
  const text = received.toString('utf8');
  const commands: string[][] = [];
  let i = 0;
  while (i < text.length) {
    const eol = text.indexOf('\r\n', i);
    if (eol < 0) break;
    const line = text.slice(i, eol);
    if (!line.startsWith('*')) {
      commands.push(line.split(' '));
      i = eol + 2;
      continue;
    }
    const count = Number(line.slice(1));
    const parts: string[] = [];
    let j = eol + 2;
    for (let k = 0; k < count; k++) {
      const lenEnd = text.indexOf('\r\n', j);
      if (lenEnd < 0) return commands;
      const len = Number(text.slice(j + 1, lenEnd));
      parts.push(text.slice(lenEnd + 2, lenEnd + 2 + len));
      j = lenEnd + 2 + len + 2;
    }
    if (j > text.length) break;
    commands.push(parts);
    i = j;
  }
  return commands;
}

/** A Redis stand-in: answers AUTH (checking `password`) and PING, one reply per command. */
function fakeRedis(password?: { user?: string; pass: string }): Promise<FakeServer> {
  const answered = new WeakMap<object, number>();
  return startFakeServer((socket, received) => {
    const commands = respCommands(received);
    const done = answered.get(socket) ?? 0;
    answered.set(socket, commands.length);
    for (const [cmd, ...args] of commands.slice(done)) {
      if (cmd === 'AUTH') {
        const expected =
          password?.user === undefined ? [password?.pass] : [password.user, password.pass];
        const ok = JSON.stringify(args) === JSON.stringify(expected);
        socket.write(ok ? '+OK\r\n' : '-WRONGPASS invalid username-password pair\r\n');
      } else if (cmd === 'PING') {
        socket.write('+PONG\r\n');
      } else {
        socket.write('-ERR unknown command\r\n');
      }
    }
  });
}

describe('checkRedis', () => {
  let server: FakeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('passes when the server answers PING with +PONG', async () => {
    server = await fakeRedis();
    const result = await checkRedis(`redis://127.0.0.1:${server.port}`);
    expect(result).toEqual({
      check: 'redis',
      ok: true,
      message: `Redis answers at redis://127.0.0.1:${server.port}`,
      hints: [],
    });
    expect(server.received[0]?.toString()).toBe('PING\r\n');
  });

  it('sends AUTH <password> first for redis://:password@ and masks it', async () => {
    server = await fakeRedis({ pass: 's3cret' });
    const result = await checkRedis(`redis://:s3cret@127.0.0.1:${server.port}`);
    expect(result.ok).toBe(true);
    expect(result.message).toBe(`Redis answers at redis://:***@127.0.0.1:${server.port}`);
    expect(respCommands(server.received[0] ?? Buffer.alloc(0))).toEqual([
      ['AUTH', 's3cret'],
      ['PING'],
    ]);
  });

  it('sends AUTH <user> <password> for redis://user:pass@, decoding escapes', async () => {
    server = await fakeRedis({ user: 'alice', pass: 'p@ss word' });
    const result = await checkRedis(`redis://alice:p%40ss%20word@127.0.0.1:${server.port}`);
    expect(result.ok).toBe(true);
    expect(respCommands(server.received[0] ?? Buffer.alloc(0))[0]).toEqual([
      'AUTH',
      'alice',
      'p@ss word',
    ]);
  });

  it('fails with the server error for a wrong password, without printing it', async () => {
    server = await fakeRedis({ pass: 'right' });
    const result = await checkRedis(`redis://:wrong@127.0.0.1:${server.port}`);
    expect(result.ok).toBe(false);
    expect(result.message).toContain('Redis refused: WRONGPASS');
    expect(result.message).not.toContain('wrong@');
    expect(result.hints).toEqual(['check the credentials in REDIS_URL']);
  });

  it('asks for a password in REDIS_URL when the server answers NOAUTH', async () => {
    server = await startFakeServer((socket) =>
      socket.write('-NOAUTH Authentication required.\r\n'),
    );
    const result = await checkRedis(`redis://127.0.0.1:${server.port}`);
    expect(result.ok).toBe(false);
    expect(result.message).toContain('Redis requires a password');
    expect(result.hints[0]).toContain('redis://:<password>@');
  });

  it('fails when the server answers something other than +PONG', async () => {
    server = await startFakeServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const result = await checkRedis(`redis://127.0.0.1:${server.port}`);
    expect(result.ok).toBe(false);
    expect(result.message).toContain('expected +PONG, got "HTTP/1.1 400 Bad Request"');
  });

  it('fails with how to start Redis when nothing listens', async () => {
    const port = await closedPort();
    const result = await checkRedis(`redis://:pw@127.0.0.1:${port}`);
    expect(result.ok).toBe(false);
    expect(result.message).toBe(
      `Redis check failed for redis://:***@127.0.0.1:${port}: connection refused, nothing listens there (ECONNREFUSED)`,
    );
    expect(result.hints).toEqual([
      'start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
      'or with Docker: docker compose up -d rabbitmq redis, then set AMQP_URL and REDIS_URL to its operator users (docs/OPERATIONS.md)',
    ]);
  });

  it('fails after the deadline when the server accepts but never answers', async () => {
    server = await startFakeServer();
    const result = await checkRedis(`redis://127.0.0.1:${server.port}`, { timeoutMs: 150 });
    expect(result.ok).toBe(false);
    expect(result.message).toContain('no reply to PING within 150 ms');
  });
});

describe('checkAmqpNodes (AMQP_URL naming a cluster)', () => {
  let server: FakeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('passes when one node of the list answers, naming the silent ones, passwords masked', async () => {
    server = await startFakeServer((socket, received) => {
      if (received.length >= 8) socket.write(CONNECTION_START);
    });
    const down = await closedPort();
    const list = `amqp://svc:s3cret@127.0.0.1:${down}, amqp://svc:s3cret@127.0.0.1:${server.port}`;
    const result = await checkAmqpNodes(list);
    expect(result.ok).toBe(true);
    expect(result.message).toContain(`RabbitMQ answers at amqp://svc:***@127.0.0.1:${server.port}`);
    expect(result.message).toContain('(1 of 2 nodes answer;');
    expect(result.message).toContain(`amqp://svc:***@127.0.0.1:${down}: connection refused`);
    expect(result.message).not.toContain('s3cret');
  });

  it('fails when no node answers, with every reason and the start hints once', async () => {
    const [a, b] = [await closedPort(), await closedPort()];
    const result = await checkAmqpNodes(
      `amqp://svc:s3cret@127.0.0.1:${a},amqp://svc:s3cret@127.0.0.1:${b}`,
    );
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/^no RabbitMQ node of 2 answers: /);
    expect(result.message).toContain(`127.0.0.1:${a}: connection refused`);
    expect(result.message).toContain(`127.0.0.1:${b}: connection refused`);
    expect(result.message).not.toContain('s3cret');
    expect(result.hints[0]).toContain('rabbitmq-server -detached');
    expect(new Set(result.hints).size).toBe(result.hints.length);
  });

  it('checks a single URL exactly as checkAmqp does', async () => {
    const port = await closedPort();
    const url = `amqp://guest:guest@127.0.0.1:${port}`;
    expect(await checkAmqpNodes(url)).toEqual(await checkAmqp(url));
  });
});

describe('checkAmqp', () => {
  let server: FakeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('sends the AMQP 0-9-1 header and passes on a connection.start frame', async () => {
    server = await startFakeServer((socket, received) => {
      if (received.length >= 8) socket.write(CONNECTION_START);
    });
    const result = await checkAmqp(`amqp://guest:guest@127.0.0.1:${server.port}`);
    expect(result).toEqual({
      check: 'rabbitmq',
      ok: true,
      message: `RabbitMQ answers at amqp://guest:***@127.0.0.1:${server.port}`,
      hints: [],
    });
    expect(server.received[0]).toEqual(AMQP_HEADER);
  });

  it('passes when the frame arrives one byte at a time', async () => {
    server = await startFakeServer((socket, received) => {
      if (received.length >= 8) socket.write(CONNECTION_START.subarray(0, 1));
    });
    expect((await checkAmqp(`amqp://127.0.0.1:${server.port}`)).ok).toBe(true);
  });

  it('fails when the server offers another protocol version', async () => {
    server = await startFakeServer((socket) =>
      socket.end(Buffer.from('AMQP\x00\x01\x00\x00', 'latin1')),
    );
    const result = await checkAmqp(`amqp://127.0.0.1:${server.port}`);
    expect(result.ok).toBe(false);
    expect(result.message).toContain('does not speak AMQP 0-9-1');
    expect(result.hints).toEqual(['check that AMQP_URL points at RabbitMQ']);
  });

  it('fails when the reply is not an AMQP frame', async () => {
    server = await startFakeServer((socket) => socket.write('-ERR unknown command\r\n'));
    const result = await checkAmqp(`amqp://127.0.0.1:${server.port}`);
    expect(result.ok).toBe(false);
    expect(result.message).toContain('the reply is not an AMQP frame (got "-ERR unknown com")');
  });

  it('fails when the server hangs up without answering', async () => {
    server = await startFakeServer((socket) => socket.end());
    const result = await checkAmqp(`amqp://127.0.0.1:${server.port}`);
    expect(result.message).toContain('closed the connection without answering');
  });

  it('fails with how to start RabbitMQ when nothing listens', async () => {
    const port = await closedPort();
    const result = await checkAmqp(`amqp://guest:guest@127.0.0.1:${port}`);
    expect(result.ok).toBe(false);
    expect(result.message).toBe(
      `RabbitMQ check failed for amqp://guest:***@127.0.0.1:${port}: connection refused, nothing listens there (ECONNREFUSED)`,
    );
    expect(result.hints).toEqual([
      'start it: rabbitmq-server -detached && rabbitmqctl await_startup',
      'or with Docker: docker compose up -d rabbitmq redis, then set AMQP_URL and REDIS_URL to its operator users (docs/OPERATIONS.md)',
    ]);
  });

  it('fails after the deadline when the server accepts but never answers', async () => {
    server = await startFakeServer();
    const result = await checkAmqp(`amqp://127.0.0.1:${server.port}`, { timeoutMs: 150 });
    expect(result.message).toContain('no AMQP reply within 150 ms');
    expect(result.hints[0]).toContain('rabbitmq-server -detached');
  });
});

describe('checkPortFree', () => {
  it('fails when something already listens on the port', async () => {
    const server = await startFakeServer();
    try {
      const result = await checkPortFree('127.0.0.1', server.port);
      expect(result.ok).toBe(false);
      expect(result.message).toBe(`gateway port 127.0.0.1:${server.port} is already in use`);
      expect(result.hints.join('\n')).toContain('GATEWAY_PORT');
    } finally {
      await server.close();
    }
  });

  it('passes on a free port and leaves it free', async () => {
    const port = await closedPort();
    expect((await checkPortFree('127.0.0.1', port)).ok).toBe(true);
    expect((await checkPortFree('127.0.0.1', port)).ok).toBe(true);
  });
});

describe('runPreflight', () => {
  it('reports every failure at once, and assertPreflight throws them as one error', async () => {
    const redis = await fakeRedis();
    const busy = await startFakeServer();
    try {
      const amqpPort = await closedPort();
      const results = await runPreflight({
        amqpUrl: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
        redisUrl: `redis://127.0.0.1:${redis.port}`,
        gateway: { host: '127.0.0.1', port: busy.port },
      });
      expect(results.map((r) => [r.check, r.ok])).toEqual([
        ['rabbitmq', false],
        ['redis', true],
        ['gateway-port', false],
      ]);
      const report = formatPreflightFailures(results);
      expect(report).toContain(
        `✗ RabbitMQ check failed for amqp://guest:***@127.0.0.1:${amqpPort}`,
      );
      expect(report).toContain('    start it: rabbitmq-server -detached');
      expect(report).toContain(`✗ gateway port 127.0.0.1:${busy.port} is already in use`);
      expect(report).not.toContain('Redis');

      let caught: { code?: string; failedChecks?: string[]; message?: string } = {};
      try {
        assertPreflight(results);
      } catch (err) {
        caught = err as typeof caught;
      }
      expect(caught.code).toBe('LAUNCHER_PREFLIGHT');
      expect(caught.failedChecks).toEqual(['rabbitmq', 'gateway-port']);
      expect(caught.message).toContain('nothing was started');
    } finally {
      await Promise.all([redis.close(), busy.close()]);
    }
  });

  it('skips the port check when the gateway is not started', async () => {
    const redis = await fakeRedis();
    const amqp = await startFakeServer((socket) => socket.write(CONNECTION_START));
    try {
      const results = await runPreflight({
        amqpUrl: `amqp://127.0.0.1:${amqp.port}`,
        redisUrl: `redis://127.0.0.1:${redis.port}`,
      });
      expect(results.map((r) => r.check)).toEqual(['rabbitmq', 'redis']);
      expect(() => assertPreflight(results)).not.toThrow();
    } finally {
      await Promise.all([redis.close(), amqp.close()]);
    }
  });
});

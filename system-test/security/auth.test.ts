/**
 * The gateway's authentication (docs/SECURITY.md), against a real gateway process: scopes per
 * route, ownership (another key's task is 404 for reads, cancels and streams), Idempotency-Key
 * spaces per key, the per-key rate limit in Redis, the body limit, the bind rule, security
 * headers and CORS, and that no key ever appears in a log line or an answer.
 */
import { apiKeysEnv, bearer, makeKey } from '../support/api-keys';
import { ServiceProcess } from '../support/service-process';
import { TestPlatform } from '../support/test-platform';

jest.setTimeout(90_000);

const writerA = makeKey('writer-a', ['tasks:write', 'tasks:read']);
const writerB = makeKey('writer-b', ['tasks:write', 'tasks:read']);
const reader = makeKey('reader', ['tasks:read']);
const admin = makeKey('ops', ['admin']);
const KEYS = [writerA, writerB, reader, admin];
/** Sent as a wrong key: must never be echoed or logged either. */
const WRONG_KEY = `tk_wrong_${'x'.repeat(20)}_canary`;

const EMAIL = { email: 'user@example.com', subject: 'Hi', body: 'Hello' };

describe('with API keys', () => {
  let platform: TestPlatform;
  const answers: string[] = [];

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['gateway'],
      env: { API_KEYS: apiKeysEnv(KEYS), RATE_LIMIT_REQUESTS: '1000' },
    });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await platform.request(method, path, body, headers);
    answers.push(JSON.stringify(response.body));
    return response;
  };

  it('answers 401 with a JSON body and WWW-Authenticate without a key or with a wrong one', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${WRONG_KEY}` },
      { 'x-api-key': WRONG_KEY },
    ];
    for (const headers of attempts) {
      const response = await call('POST', '/tasks/email', EMAIL, headers);
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ detail: expect.any(String) as unknown });
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await call('GET', '/tasks/some-id')).status).toBe(401);
    expect((await call('GET', '/dead-letters')).status).toBe(401);
  });

  it('keeps discovery and probes public', async () => {
    for (const path of ['/', '/livez', '/openapi.json']) {
      expect((await call('GET', path)).status).toBe(200);
    }
  });

  it('checks scopes per route: 403 naming the missing scope', async () => {
    const write = await call('POST', '/tasks/email', EMAIL, bearer(reader));
    expect(write.status).toBe(403);
    expect(write.body).toEqual({ detail: expect.stringContaining('tasks:write') as unknown });
    expect((await call('GET', '/dead-letters', undefined, bearer(writerA))).status).toBe(403);
    expect((await call('GET', '/schedules', undefined, bearer(writerA))).status).toBe(403);
    expect((await call('GET', '/tasks/active/list', undefined, bearer(writerA))).status).toBe(403);
    expect((await call('GET', '/dead-letters', undefined, bearer(admin))).status).toBe(200);
    expect((await call('GET', '/health', undefined, bearer(reader))).status).toBe(200);
  });

  it("answers 404 for another key's task: read, stream, cancel; the owner and admin see it", async () => {
    const created = await call('POST', '/tasks/email', EMAIL, bearer(writerA));
    expect(created.status).toBe(202);
    const taskId = (created.body as { task_id: string }).task_id;

    const own = await call('GET', `/tasks/${taskId}`, undefined, { 'x-api-key': writerA.key });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ task_id: taskId, status: 'PENDING' });

    const missing = await call('GET', '/tasks/no-such-task', undefined, bearer(writerB));
    const foreign = await call('GET', `/tasks/${taskId}`, undefined, bearer(writerB));
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(missing.body); // indistinguishable from a missing task
    expect((await call('GET', `/tasks/${taskId}`, undefined, bearer(reader))).status).toBe(404);
    expect((await call('GET', `/tasks/${taskId}/events`, undefined, bearer(writerB))).status).toBe(
      404,
    );
    expect((await call('DELETE', `/tasks/${taskId}`, undefined, bearer(writerB))).status).toBe(404);
    expect((await call('GET', `/reports/${taskId}.csv`, undefined, bearer(writerB))).status).toBe(
      404,
    );
    // Still PENDING: the other key's cancel did nothing.
    expect((await call('GET', `/tasks/${taskId}`, undefined, bearer(admin))).body).toMatchObject({
      status: 'PENDING',
    });
    const cancelled = await call('DELETE', `/tasks/${taskId}`, undefined, bearer(writerA));
    expect(cancelled.status).toBe(200);
  });

  it("answers 404 for another key's workflow and its steps; the owner and admin see them", async () => {
    const workflow = {
      chain: [
        { task: 'email', payload: EMAIL },
        { task: 'email', payload: EMAIL },
      ],
    };
    expect((await call('POST', '/workflows', workflow, bearer(reader))).status).toBe(403);
    const created = await call('POST', '/workflows', workflow, bearer(writerA));
    expect(created.status).toBe(202);
    const { workflow_id: id, task_ids: steps } = created.body as {
      workflow_id: string;
      task_ids: string[];
    };

    expect((await call('GET', `/workflows/${id}`, undefined, bearer(writerA))).status).toBe(200);
    expect((await call('GET', `/workflows/${id}`, undefined, bearer(admin))).status).toBe(200);
    const missing = await call('GET', '/workflows/no-such-workflow', undefined, bearer(writerB));
    const foreign = await call('GET', `/workflows/${id}`, undefined, bearer(writerB));
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(missing.body);
    expect((await call('DELETE', `/workflows/${id}`, undefined, bearer(writerB))).status).toBe(404);
    // Every step, the queued and the waiting one, belongs to the submitting key.
    for (const step of steps) {
      expect((await call('GET', `/tasks/${step}`, undefined, bearer(writerA))).status).toBe(200);
      expect((await call('GET', `/tasks/${step}`, undefined, bearer(writerB))).status).toBe(404);
    }
    expect((await call('DELETE', `/workflows/${id}`, undefined, bearer(writerA))).status).toBe(200);
  });

  it('gives each key its own Idempotency-Key space', async () => {
    const headers = { 'idempotency-key': 'order-42' };
    const a1 = await call('POST', '/tasks/email', EMAIL, { ...headers, ...bearer(writerA) });
    const a2 = await call('POST', '/tasks/email', EMAIL, { ...headers, ...bearer(writerA) });
    const b1 = await call('POST', '/tasks/email', EMAIL, { ...headers, ...bearer(writerB) });
    expect([a1.status, a2.status, b1.status]).toEqual([202, 202, 202]);
    const id = (r: { body: unknown }) => (r.body as { task_id: string }).task_id;
    expect(id(a2)).toBe(id(a1));
    expect(id(b1)).not.toBe(id(a1));
    expect((await call('GET', `/tasks/${id(b1)}`, undefined, bearer(writerB))).status).toBe(200);
  });

  it('answers 413 with a JSON message for a body over the limit, before reading it all', async () => {
    const huge = JSON.stringify({ ...EMAIL, body: 'x'.repeat(1_100_000) });
    const response = await call('POST', '/tasks/email', huge, bearer(writerA));
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ detail: expect.stringContaining('1048576 bytes') as unknown });
  });

  it('sends security headers and no CORS headers unless configured', async () => {
    const response = await call('GET', '/livez', undefined, { origin: 'https://evil.example' });
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('x-powered-by')).toBeNull();
  });

  it('never writes a key into a log line or an answer', () => {
    const logs = platform.processes.flatMap((p) => p.raw).join('\n');
    expect(logs).toContain('API keys loaded');
    for (const secret of [...KEYS.map((k) => k.key), WRONG_KEY]) {
      expect(logs).not.toContain(secret);
      expect(answers.join('\n')).not.toContain(secret);
    }
  });
});

describe('rate limit per key', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['gateway'],
      env: {
        API_KEYS: apiKeysEnv(KEYS),
        RATE_LIMIT_REQUESTS: '5',
        RATE_LIMIT_WINDOW_MS: '60000',
      },
    });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('answers 429 with Retry-After beyond the limit, counted in Redis per key', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      statuses.push((await platform.request('GET', '/health', undefined, bearer(reader))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const limited = await platform.request('GET', '/health', undefined, bearer(reader));
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ detail: expect.stringContaining('rate limit') as unknown });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The count lives in Redis, under the key's id (never the key itself).
    expect(await platform.ns.redis.get(`${platform.ns.redisPrefix}ratelimit:${reader.id}`)).toBe(
      '6',
    );
    // Another key has its own budget; public probes are not counted.
    expect((await platform.request('GET', '/health', undefined, bearer(admin))).status).toBe(200);
    expect((await platform.request('GET', '/livez')).status).toBe(200);
  });
});

describe('keyless local mode', () => {
  it('behaves as before on loopback, unlimited, and says so at start', async () => {
    const platform = await TestPlatform.start({
      services: ['gateway'],
      env: { RATE_LIMIT_REQUESTS: '2' },
    });
    try {
      const gateway = platform.processes[0]!;
      await gateway.waitForLog(
        'no API keys configured: authentication is off and the gateway listens on loopback only',
      );
      const taskId = await platform.submit('email', EMAIL);
      for (let i = 0; i < 4; i += 1) expect((await platform.task(taskId)).task_id).toBe(taskId);
      expect((await platform.request('GET', '/dead-letters')).status).toBe(200);
      expect((await platform.request('DELETE', `/tasks/${taskId}`)).status).toBe(200);
    } finally {
      await platform.stop();
    }
  });

  it('refuses to listen beyond loopback without keys, naming the variables', async () => {
    const platform = await TestPlatform.start({ services: [] });
    try {
      const gateway = new ServiceProcess('gateway', {
        ...(process.env as Record<string, string>),
        ...platform.ns.env(),
        GATEWAY_HOST: '0.0.0.0',
        GATEWAY_PORT: '0',
      });
      platform.processes.push(gateway);
      const exit = await gateway.exited;
      expect(exit.code).not.toBe(0);
      const output = gateway.raw.join('\n');
      expect(output).toContain('GATEWAY_HOST');
      expect(output).toContain('API_KEYS');
    } finally {
      await platform.stop();
    }
  });

  it('listens beyond loopback without keys only when explicitly allowed, with a warning', async () => {
    const platform = await TestPlatform.start({
      services: ['gateway'],
      env: { GATEWAY_HOST: '0.0.0.0', GATEWAY_ALLOW_UNAUTHENTICATED: 'true' },
    });
    try {
      const warning = platform.processes[0]!.lines.find((l) =>
        String(l.msg).includes('GATEWAY_ALLOW_UNAUTHENTICATED=true'),
      );
      expect(warning).toBeDefined();
    } finally {
      await platform.stop();
    }
  });
});

describe('CORS', () => {
  it('answers a preflight only for configured origins', async () => {
    const platform = await TestPlatform.start({
      services: ['gateway'],
      env: { API_KEYS: apiKeysEnv(KEYS), CORS_ORIGINS: 'https://app.example' },
    });
    try {
      const preflight = (origin: string) =>
        fetch(`${platform.baseUrl}/tasks/email`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization,content-type',
          },
        });
      const allowed = await preflight('https://app.example');
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(allowed.headers.get('access-control-allow-headers')).toContain('Authorization');
      const other = await preflight('https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await platform.stop();
    }
  });
});

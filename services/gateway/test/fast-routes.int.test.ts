/**
 * The fast routes (POST /tasks/{kind}, GET /tasks/{id} on plain node:http) answer exactly as the
 * express app they stand in front of: the same requests go to the express app alone and to the
 * wrapped one, and status, headers and body must match (task ids aside, which are new per
 * request). Requests the fast routes leave to express are checked to reach it. With API keys, a
 * rate limit and CORS configured, both fronts run the same security pipeline: 401, 403, the
 * ownership 404, 429 with Retry-After, helmet's and CORS's headers.
 *
 * Needs RabbitMQ and Redis (TestNamespace): commands are really published and confirmed.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CommandPublisher, createLogger, TaskEnqueuer, TaskStore } from '@tasks/runtime';
import { TestNamespace, TestPublisher } from '@tasks/runtime/testing';
import { type AppDeps, createApp } from '../src/app';
import { withFastRoutes } from '../src/http/fast-routes';
import { ROUTES } from '../src/routes/route-table';
import type { AccessGuardOptions } from '../src/security/access-guard';
import { ApiKeys, hashApiKey, type Scope } from '../src/security/api-keys';
import { RateLimiter } from '../src/security/rate-limiter';
import { apiSecurityHeaders } from '../src/security/security-headers';
import { TaskSubmitter } from '../src/task-submitter';

const log = createLogger({ service: 'test', level: 'silent' });
const MAX_BODY_BYTES = 10_000;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

describe('fast task routes', () => {
  let ns: TestNamespace;
  let gateway: TestPublisher;
  let store: TaskStore;
  let submitter: TaskSubmitter;
  const servers: Server[] = [];

  beforeAll(async () => {
    ns = await new TestNamespace().setup();
    gateway = await TestPublisher.open(ns, { name: 'test-gateway', appId: 'gateway' });
    store = new TaskStore(ns.redis, { prefix: ns.redisPrefix, resultTtlS: 600 });
    submitter = new TaskSubmitter({
      store,
      redis: ns.redis,
      enqueuer: new TaskEnqueuer(
        store,
        new CommandPublisher(gateway.publisher, ns.names, ns.delay),
      ),
      delay: ns.delay,
      idempotencyTtlS: 600,
    });
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    await gateway.close();
    await ns.destroy();
  });

  type Security = AccessGuardOptions & { readonly corsOrigins: readonly string[] };

  /** The express app with the real task routes; the routes not under test are left empty. */
  const depsWith = (security?: Security): AppDeps => ({
    security,
    log,
    reportsDir: '/nonexistent',
    maxBodyBytes: MAX_BODY_BYTES,
    store,
    submitter,
    monitoring: {} as AppDeps['monitoring'],
    canceller: {} as AppDeps['canceller'],
    deadLetters: {} as AppDeps['deadLetters'],
    schedules: {} as AppDeps['schedules'],
    taskStreams: { handler: () => () => undefined } as unknown as AppDeps['taskStreams'],
    readiness: () => ({}),
    queueStats: {} as AppDeps['queueStats'],
    workflows: {} as AppDeps['workflows'],
    taskHistory: {} as AppDeps['taskHistory'],
    workers: {} as AppDeps['workers'],
  });
  const expressApp = (security?: Security): ReturnType<typeof createApp> =>
    createApp(depsWith(security));

  /** The express app behind the fast routes, as main.ts wires them; `passedOn` counts the rest. */
  const fastFront = (security?: Security): { handler: RequestListener; passedOn: () => number } => {
    const app = expressApp(security);
    let passedOn = 0;
    const handler = withFastRoutes(
      (req, res) => {
        passedOn += 1;
        app(req, res);
      },
      ROUTES,
      {
        ...depsWith(security),
        headers: apiSecurityHeaders({ corsOrigins: security?.corsOrigins ?? [] }),
      },
    );
    return { handler, passedOn: () => passedOn };
  };

  const listen = async (handler: Parameters<typeof createServer>[1]): Promise<string> => {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  const call = async (
    base: string,
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const response = await fetch(`${base}${path}`, { method, body, headers });
    const kept: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (name !== 'date' && name !== 'keep-alive' && name !== 'connection') kept[name] = value;
    });
    return { status: response.status, headers: kept, body: await response.text() };
  };

  /** Task ids differ between the two servers: compare the rest. */
  const withoutIds = (answer: Answer): Answer => {
    const body = answer.body.replace(/"task_id":"[0-9a-f-]{36}"/g, '"task_id":"<id>"');
    return { ...answer, body, headers: { ...answer.headers, 'content-length': '<n>' } };
  };

  const json = { 'content-type': 'application/json' };
  const email = JSON.stringify({ email: 'a@example.com', subject: 's', body: 'b' });
  const cases: [string, string, string, string | undefined, Record<string, string>][] = [
    ['a valid POST', 'POST', '/tasks/email', email, json],
    [
      'a POST with charset',
      'POST',
      '/tasks/process',
      '{"data":{"x":1}}',
      { 'content-type': 'application/json; charset=utf-8' },
    ],
    [
      'a +json media type',
      'POST',
      '/tasks/process',
      '{"data":{}}',
      { 'content-type': 'application/vnd.api+json' },
    ],
    ['a bad field', 'POST', '/tasks/email', '{"email":"nope","subject":"","body":1}', json],
    ['an empty body', 'POST', '/tasks/email', '', json],
    ['malformed JSON', 'POST', '/tasks/email', '{"email": ', json],
    ['JSON that is no object', 'POST', '/tasks/email', ' "text"', json],
    ['a number', 'POST', '/tasks/email', '12', json],
    ['an array', 'POST', '/tasks/report', '[1, 2]', json],
    ['a byte order mark', 'POST', '/tasks/process', '\ufeff{"data":{}}', json],
    [
      'countdown and eta',
      'POST',
      '/tasks/process',
      '{"data":{},"countdown":5,"eta":"2030-01-01T00:00:00Z"}',
      json,
    ],
    [
      'an over-long Idempotency-Key',
      'POST',
      '/tasks/email',
      email,
      { ...json, 'idempotency-key': 'k'.repeat(300) },
    ],
    ['no content type (express: no body)', 'POST', '/tasks/email', email, {}],
    [
      'a body over the limit (express: 413)',
      'POST',
      '/tasks/email',
      `{"x":"${'y'.repeat(MAX_BODY_BYTES)}"}`,
      json,
    ],
    [
      'an unknown charset (express: 415)',
      'POST',
      '/tasks/email',
      email,
      { 'content-type': 'application/json; charset=klingon' },
    ],
    ['a missing task', 'GET', '/tasks/no-such-task', undefined, {}],
    ['a missing task, with a query', 'GET', '/tasks/no-such-task?x=1', undefined, {}],
    ['an id that does not decode (express: 400)', 'GET', '/tasks/%E0%A4%A', undefined, {}],
  ];

  it.each(cases)('answers %s as express does', async (name, method, path, body, headers) => {
    const plain = await listen(expressApp());
    const front = fastFront();
    const fast = await listen(front.handler);
    const expected = await call(plain, method, path, body, headers);
    const actual = await call(fast, method, path, body, headers);
    expect(withoutIds(actual)).toEqual(withoutIds(expected));
    // Cases named "(express: …)" are left to express; the others are served by the fast routes.
    expect(front.passedOn()).toBe(/\(express/.test(name) ? 1 : 0);
  });

  it('reads a task back exactly as express does, and keeps Idempotency-Key semantics', async () => {
    const plain = await listen(expressApp());
    const fast = await listen(fastFront().handler);
    const key = { ...json, 'idempotency-key': `key-${ns.prefix}` };
    const first = await call(fast, 'POST', '/tasks/email', email, key);
    expect(first.status).toBe(202);
    const { task_id: id } = JSON.parse(first.body) as { task_id: string };

    // The same key and body: the same task, from either front.
    expect(JSON.parse((await call(fast, 'POST', '/tasks/email', email, key)).body)).toMatchObject({
      task_id: id,
    });
    expect(JSON.parse((await call(plain, 'POST', '/tasks/email', email, key)).body)).toMatchObject({
      task_id: id,
    });
    const reused = await call(
      fast,
      'POST',
      '/tasks/email',
      '{"email":"b@example.com","subject":"s","body":"b"}',
      key,
    );
    expect(reused).toEqual(
      await call(
        plain,
        'POST',
        '/tasks/email',
        '{"email":"b@example.com","subject":"s","body":"b"}',
        key,
      ),
    );
    expect(reused.status).toBe(422);

    const read = await call(fast, 'GET', `/tasks/${id}`);
    expect(read).toEqual(await call(plain, 'GET', `/tasks/${id}`));
    expect(JSON.parse(read.body)).toMatchObject({ task_id: id, status: 'PENDING' });
  });

  describe('with API keys, a rate limit and CORS', () => {
    const keyOf = (id: string): string => `key-${id}-${ns.prefix}`;
    const entry = (id: string, scopes: Scope[]) => ({ id, sha256: hashApiKey(keyOf(id)), scopes });
    const keys = (): ApiKeys =>
      new ApiKeys([
        entry('writer', ['tasks:write', 'tasks:read']),
        entry('other', ['tasks:write', 'tasks:read']),
        entry('reader', ['tasks:read']),
        entry('ops', ['admin']),
      ]);
    /** Each front gets its own limit counters: both must count alike. */
    const security = (limiterPrefix: string, limit = 1000): Security => ({
      keys: keys(),
      limiter: new RateLimiter(ns.redis, {
        prefix: `${ns.redisPrefix}${limiterPrefix}:`,
        limit,
        windowMs: 60_000,
      }),
      corsOrigins: ['https://app.example'],
    });
    const as = (id: string): Record<string, string> => ({ authorization: `Bearer ${keyOf(id)}` });
    const origin = { origin: 'https://app.example' };

    it('answers each request as express does, served by the fast routes', async () => {
      const plain = await listen(expressApp(security('plain')));
      const front = fastFront(security('fast'));
      const fast = await listen(front.handler);
      // A task of `writer` to read back.
      const created = await call(plain, 'POST', '/tasks/email', email, {
        ...json,
        ...as('writer'),
      });
      const { task_id: id } = JSON.parse(created.body) as { task_id: string };
      const keyed: [string, string, string, string | undefined, Record<string, string>][] = [
        ['no key', 'POST', '/tasks/email', email, json],
        ['an unknown key', 'POST', '/tasks/email', email, { ...json, 'x-api-key': 'nope' }],
        [
          'a malformed Authorization',
          'GET',
          `/tasks/${id}`,
          undefined,
          { authorization: 'Basic x' },
        ],
        ['a key without tasks:write', 'POST', '/tasks/email', email, { ...json, ...as('reader') }],
        ['a writer', 'POST', '/tasks/email', email, { ...json, ...as('writer'), ...origin }],
        [
          'an X-API-Key',
          'POST',
          '/tasks/process',
          '{"data":{}}',
          { ...json, 'x-api-key': keyOf('other') },
        ],
        ['a bad field with a key', 'POST', '/tasks/email', '{}', { ...json, ...as('writer') }],
        [
          'too deep JSON',
          'POST',
          '/tasks/process',
          `{"data":${'['.repeat(40)}${']'.repeat(40)}}`,
          { ...json, ...as('writer') },
        ],
        ['the owner reading', 'GET', `/tasks/${id}`, undefined, { ...as('writer'), ...origin }],
        ['another key reading (404)', 'GET', `/tasks/${id}`, undefined, as('other')],
        ['admin reading', 'GET', `/tasks/${id}`, undefined, as('ops')],
        ['no key reading', 'GET', `/tasks/${id}`, undefined, {}],
      ];
      for (const [name, method, path, body, headers] of keyed) {
        const expected = await call(plain, method, path, body, headers);
        const actual = await call(fast, method, path, body, headers);
        expect({ name, ...withoutIds(actual) }).toEqual({ name, ...withoutIds(expected) });
      }
      expect(front.passedOn()).toBe(0);
      const statuses = await Promise.all(
        keyed.map(([, method, path, body, headers]) => call(fast, method, path, body, headers)),
      );
      expect(statuses.map((a) => a.status)).toEqual([
        401, 401, 401, 403, 202, 202, 422, 422, 200, 404, 200, 401,
      ]);
      expect(statuses[4]!.headers).toMatchObject({
        'access-control-allow-origin': 'https://app.example',
        'content-security-policy': "default-src 'none';frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
      });
    });

    it('rate-limits per key as express does: 429 with Retry-After', async () => {
      const plain = await listen(expressApp(security('plain-limit', 2)));
      const fast = await listen(fastFront(security('fast-limit', 2)).handler);
      for (const base of [plain, fast]) {
        const answers = [];
        for (let i = 0; i < 3; i += 1) {
          answers.push(
            await call(base, 'POST', '/tasks/email', email, { ...json, ...as('writer') }),
          );
        }
        expect(answers.map((a) => a.status)).toEqual([202, 202, 429]);
        expect(Number(answers[2]!.headers['retry-after'])).toBeGreaterThan(0);
        expect(JSON.parse(answers[2]!.body)).toEqual({
          detail: 'Too many requests: rate limit exceeded',
        });
      }
    });
  });
});

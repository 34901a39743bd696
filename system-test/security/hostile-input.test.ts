/**
 * Hostile input at every endpoint of a real gateway (fast-check): random and adversarial JSON
 * (deep nesting, huge strings, prototype-pollution keys, wrong types, unicode edge cases, header
 * injection in e-mail fields), malformed bodies, odd path parameters, queries and headers. The
 * gateway must always answer a 4xx with a JSON body or a proper 2xx, never a 5xx or a crash, and
 * create a task only for a 202: at the end Redis holds exactly the tasks that were answered 202.
 */
import fc from 'fast-check';
import { apiKeysEnv, bearer, makeKey } from '../support/api-keys';
import { TestPlatform } from '../support/test-platform';

jest.setTimeout(300_000);

const admin = makeKey('ops', ['admin']);
const writer = makeKey('writer', ['tasks:write', 'tasks:read']);
const NUM_RUNS = 120;

const VALID: Record<'email' | 'process' | 'report', Record<string, unknown>> = {
  email: { email: 'user@example.com', subject: 'Hi', body: 'Hello' },
  process: { data: { records: 3 } },
  report: { report_type: 'daily' },
};
const KNOWN_FIELDS = [
  'email',
  'subject',
  'body',
  'html',
  'template',
  'variables',
  'data',
  'records',
  'description',
  'report_type',
  'priority',
  'countdown',
  'eta',
  'format',
  'date_from',
  'date_to',
];
const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];
const INJECTIONS = [
  '\r\nBcc: victim@evil.example',
  '\nX-Injected: 1',
  '\u2028',
  '\u0000',
  '%0d%0a',
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const hostileString = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.string({ unit: loneSurrogate, maxLength: 5 }),
  fc.constantFrom(...INJECTIONS).map((s) => `Hi${s}`),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => 'x'.repeat(n)),
  fc.constantFrom('', ' ', 'null', '1e309', '-0', '𝕏'.repeat(50), '\u202eevil', '../../etc/passwd'),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(null, true, false, 0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.5, [], {}),
  fc.integer(),
  fc.double(),
);

/** A JSON text: a valid body with one field changed, a pollution attempt, or anything. */
const hostileJson = (kind: keyof typeof VALID): fc.Arbitrary<string> =>
  fc.oneof(
    fc
      .tuple(fc.constantFrom(...KNOWN_FIELDS), hostileValue)
      .map(([field, value]) => JSON.stringify({ ...VALID[kind], [field]: value })),
    fc.tuple(fc.constantFrom(...POLLUTION_KEYS), hostileValue).map(([key, value]) => {
      const base = JSON.stringify(VALID[kind]).slice(0, -1);
      const polluted = JSON.stringify({ polluted: value });
      return `${base},"${key}":${polluted},"data":{"${key}":${polluted}}}`;
    }),
    fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
    fc.integer({ min: 33, max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
    fc.integer({ min: 33, max: 5_000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
    fc.string({ maxLength: 40 }), // mostly not JSON at all
    fc.constantFrom('', '{', '{"email":', 'null', '[]', '"str"', '{"a":1}{"b":2}', '\ufeff{}'),
  );

/** A workflow body: nested chain/group/chord nodes whose steps are valid, hostile or not steps. */
const hostileWorkflow: fc.Arbitrary<string> = fc
  .letrec<{ node: unknown; step: unknown }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      tie('step'),
      fc.record({ chain: fc.array(tie('node'), { maxLength: 4 }) }),
      fc.record({ group: fc.array(tie('node'), { maxLength: 4 }) }),
      fc.record({
        chord: fc.record({ header: fc.array(tie('node'), { maxLength: 3 }), body: tie('node') }),
      }),
      hostileValue,
    ),
    step: fc.oneof(
      fc.constantFrom(...(Object.keys(VALID) as (keyof typeof VALID)[])).map((task) => ({
        task,
        payload: VALID[task],
      })),
      fc.record({
        task: fc.oneof(fc.constantFrom('email', 'process', 'report', 'cleanup'), hostileString),
        payload: hostileValue,
      }),
      fc
        .tuple(fc.constantFrom(...KNOWN_FIELDS), hostileValue)
        .map(([field, value]) => ({ task: 'email', payload: { ...VALID.email, [field]: value } })),
    ),
  }))
  .node.map((node) => JSON.stringify(node));

const hostileId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).map(encodeURIComponent),
  fc.constantFrom(
    '%',
    '%E0%A4%A',
    '%00',
    '..%2f..%2fetc%2fpasswd',
    '%2e%2e',
    'a'.repeat(5000),
    '__proto__',
    'constructor',
  ),
);

const hostileHeaderValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 300,
});

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/merge-patch+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
];

describe('hostile input at every endpoint', () => {
  let platform: TestPlatform;
  const createdIds = new Set<string>();
  const failures: string[] = [];
  let requests = 0;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['gateway'],
      env: {
        API_KEYS: apiKeysEnv([admin, writer]),
        RATE_LIMIT_REQUESTS: '0',
        RATE_LIMIT_EMAILS: '0',
      },
    });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  /** Sends one request and checks the answer; throws (failing the property) on a violation. */
  async function send(
    method: string,
    path: string,
    init: { body?: string | Buffer; headers?: Record<string, string> } = {},
  ): Promise<number> {
    requests += 1;
    const response = await fetch(`${platform.baseUrl}${path}`, {
      method,
      headers: { ...bearer(admin), ...init.headers },
      body: init.body,
    });
    const text = await response.text();
    const where = `${method} ${path.slice(0, 120)} → ${response.status}`;
    if (response.status >= 500) {
      failures.push(`${where}: ${text.slice(0, 300)}`);
      throw new Error(`5xx: ${where}: ${text.slice(0, 300)}`);
    }
    if (response.status !== 204) {
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const body = JSON.parse(text) as Record<string, unknown>;
      if (response.status >= 400) expect(body).toHaveProperty('detail');
      if (response.status === 202 && method === 'POST' && path.startsWith('/tasks/')) {
        expect(body).toMatchObject({ status: 'queued', task_id: expect.any(String) as unknown });
        createdIds.add(body.task_id as string);
      }
      if (response.status === 202 && method === 'POST' && path === '/workflows') {
        for (const id of body.task_ids as string[]) createdIds.add(id);
      }
    }
    return response.status;
  }

  it.each(['email', 'process', 'report'] as const)(
    'POST /tasks/%s: random and adversarial JSON bodies',
    async (kind) => {
      await fc.assert(
        fc.asyncProperty(
          hostileJson(kind),
          fc.constantFrom(...CONTENT_TYPES),
          async (body, type) => {
            const status = await send('POST', `/tasks/${kind}`, {
              body,
              headers: { 'content-type': type },
            });
            expect([202, 413, 415, 422]).toContain(status);
          },
        ),
        { numRuns: NUM_RUNS },
      );
    },
  );

  it('POST /tasks/email: bodies that are not UTF-8, and hostile Idempotency-Keys', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        hostileHeaderValue,
        async (bytes, key) => {
          await send('POST', '/tasks/email', {
            body: Buffer.from(bytes),
            headers: { 'content-type': 'application/json' },
          });
          await send('POST', '/tasks/email', {
            body: JSON.stringify(VALID.email),
            headers: { 'content-type': 'application/json', 'idempotency-key': key },
          });
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('POST /workflows: random nestings of valid, hostile and non-steps', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileWorkflow, hostileJson('email')), async (body) => {
        const status = await send('POST', '/workflows', {
          body,
          headers: { 'content-type': 'application/json' },
        });
        expect([202, 413, 422]).toContain(status);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('task, dead-letter, schedule and report endpoints: odd path parameters and queries', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostileId,
        hostileHeaderValue,
        hostileJson('email'),
        async (id, query, body) => {
          await send('GET', `/tasks/${id}`);
          await send('GET', `/tasks/${id}/events`);
          await send('DELETE', `/tasks/${id}`);
          await send('GET', `/reports/${id}`);
          await send('GET', `/workflows/${id}`);
          await send('DELETE', `/workflows/${id}`);
          await send(
            'GET',
            `/dead-letters?limit=${encodeURIComponent(query)}&offset=${encodeURIComponent(query)}`,
          );
          await send('GET', `/dead-letters?${query.replace(/#/g, '')}`);
          await send('POST', `/dead-letters/${id}/replay`);
          await send('DELETE', `/dead-letters/${id}`);
          await send('POST', `/schedules/${id}/run`);
          await send('PATCH', `/schedules/${id}`, {
            body,
            headers: { 'content-type': 'application/json' },
          });
        },
      ),
      { numRuns: Math.round(NUM_RUNS / 2) },
    );
  });

  it('read-only endpoints with hostile headers and credentials', async () => {
    const paths = [
      '/',
      '/health',
      '/queues',
      '/tasks/active/list',
      '/dead-letters',
      '/schedules',
      '/openapi.json',
      '/livez',
      '/readyz',
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), hostileHeaderValue, async (path, value) => {
        await send('GET', path, { headers: { authorization: value } });
        await send('GET', path, { headers: { authorization: `Bearer ${value}` } });
        await send('GET', path, { headers: { 'x-api-key': value, authorization: '' } });
        await send('GET', path, { headers: { 'last-event-id': value, accept: value } });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a body over the size limit is 413, JSON nested too deep is 422 at body', async () => {
    const big = JSON.stringify({ ...VALID.email, body: 'x'.repeat(2_000_000) });
    expect(
      await send('POST', '/tasks/email', {
        body: big,
        headers: { 'content-type': 'application/json' },
      }),
    ).toBe(413);
    const deep = `{"data":{"nested":${'['.repeat(400_000)}${']'.repeat(400_000)}}}`;
    expect(
      await send('POST', '/tasks/process', {
        body: deep,
        headers: { 'content-type': 'application/json' },
      }),
    ).toBe(422);
    // Under the body limit but over the report payload's own limit (16 KiB).
    expect(
      await send('POST', '/tasks/report', {
        body: JSON.stringify({ report_type: 'daily', params: { note: 'x'.repeat(20_000) } }),
        headers: { 'content-type': 'application/json' },
      }),
    ).toBe(413);
  });

  it('e-mail headers cannot be injected through the API: a line break in subject or address is 422', async () => {
    for (const injection of [
      '\r\nBcc: victim@evil.example',
      '\nBcc: victim@evil.example',
      '\rX: y',
    ]) {
      for (const field of ['subject', 'email']) {
        const body = { ...VALID.email, [field]: `${String(VALID.email[field])}${injection}` };
        const response = await platform.request('POST', '/tasks/email', body, bearer(writer));
        expect(response.status).toBe(422);
        expect(JSON.stringify(response.body)).toContain(`"${field}"`);
      }
    }
  });

  it('never 5xx, and Redis holds exactly the tasks answered 202', async () => {
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(1000);
    expect(createdIds.size).toBeGreaterThan(0); // valid bodies were among them
    const keys = await platform.ns.redis.keys(`${platform.ns.redisPrefix}task:*`);
    const stored = new Set(keys.map((k) => k.slice(`${platform.ns.redisPrefix}task:`.length)));
    // The e-mail injection test's requests were all refused: nothing beyond createdIds.
    expect(stored).toEqual(createdIds);
    // The gateway is still up and serving.
    expect((await platform.request('GET', '/livez')).status).toBe(200);
    expect(platform.running('gateway')).toHaveLength(1);
  });
});

/**
 * Generated hostile bodies built to multiply work (long arrays of anything where a list or a
 * field is expected, objects of tens of thousands of keys, deep nesting, long strings), thrown
 * at every route that reads a body, the node:http fast path and the express app alike, of a real
 * gateway under its deployed heap flags. Whatever the body: never a 5xx, an answer of bounded
 * size in bounded time, and the gateway stays up within its memory limit (docs/SECURITY.md,
 * "Bounded work per request").
 */
import fc from 'fast-check';
import { apiKeysEnv, bearer, makeKey } from '../support/api-keys';
import { deployedNodeOptions, residentMb } from '../support/node-flags';
import { TestPlatform } from '../support/test-platform';

jest.setTimeout(600_000);

const MAX_BODY_BYTES = 1024 * 1024;
/** Largest answer to any of these requests: a 422 lists at most 50 short issues. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** Slowest answer allowed, generous for a loaded test machine; unbounded work took seconds. */
const MAX_LATENCY_MS = 5_000;
const GATEWAY_MEMORY_LIMIT_MB = 384;
const NUM_RUNS = 40;

const admin = makeKey('ops', ['admin']);

/** A JSON value that is costly in bulk: each is repeated thousands of times below. */
const ITEMS = ['1', '{}', '[]', 'null', '"x"', '{"task":"email"}', '{"chain":[]}', '{"a":{"b":1}}'];

/** `count` copies of `item`, as a JSON array, cut to fit the body limit. */
function bulkArray(item: string, count: number): string {
  const fit = Math.min(count, Math.floor((MAX_BODY_BYTES - 300) / (item.length + 1)));
  return `[${new Array<string>(fit).fill(item).join(',')}]`;
}

/** An object of `count` distinct keys, each with `value`. */
function bulkObject(value: string, count: number, badNames: boolean): string {
  const entry = (i: number) => `"${badNames ? '-' : 'k'}${i.toString(36)}":${value}`;
  const fit = Math.min(count, Math.floor((MAX_BODY_BYTES - 300) / (value.length + 10)));
  return `{${Array.from({ length: fit }, (_, i) => entry(i)).join(',')}}`;
}

const bulkValue: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...ITEMS), fc.integer({ min: 1_000, max: 500_000 }))
    .map(([item, n]) => bulkArray(item, n)),
  fc
    .tuple(
      fc.constantFrom('1', '"x"', '{}', '[1]'),
      fc.integer({ min: 1_000, max: 60_000 }),
      fc.boolean(),
    )
    .map(([value, n, bad]) => bulkObject(value, n, bad)),
  fc.integer({ min: 33, max: 100_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.integer({ min: 1_000, max: 900_000 }).map((n) => JSON.stringify('x'.repeat(n))),
);

/** Where a route's body holds collections (and any body's): `$` is replaced by the bulk value. */
const ANY_BODY = ['$', '{"x":$}'];
const EMAIL = [
  '{"email":"a@example.com","template":"welcome","variables":$}',
  '{"email":"a@example.com","subject":"s","body":"b","variables":$}',
  '{"email":$,"subject":$,"body":"b"}',
];
const PROCESS = ['{"data":{"records":$}}', '{"data":$,"description":$}'];
const REPORT = ['{"report_type":"daily","params":$}', '{"report_type":$,"params":{"format":$}}'];
const SCHEDULE = [
  '{"name":"nightly","task":"task.data.process","every":"2s","payload":$}',
  '{"name":$,"task":$,"cron":$,"timezone":$}',
];
const WORKFLOW = [
  '{"group":$}',
  '{"chain":$}',
  '{"chord":{"header":$,"body":{"task":"process","payload":{"data":{}}}}}',
  '{"chain":[{"task":"email","payload":{"email":"a@example.com","template":"welcome","variables":$}}]}',
  '{"group":[{"task":"report","payload":{"report_type":"daily","params":$}}]}',
];

/** A body of `shapes` with the bulk value put in, within the body limit. */
const hostileBody = (shapes: readonly string[]): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom(...shapes, ...ANY_BODY), bulkValue).map(([shape, value]) => {
    const holes = shape.split('$').length - 1;
    const room = Math.floor((MAX_BODY_BYTES - shape.length) / holes);
    // Two holes share the room: a value too long for it is replaced by a short one.
    return shape.replaceAll('$', value.length <= room ? value : '1');
  });

/** Every route that takes a request body, with the shapes of its body. */
const ROUTES = [
  ['POST', '/tasks/email', EMAIL],
  ['POST', '/tasks/process', PROCESS],
  ['POST', '/tasks/report', REPORT],
  ['POST', '/workflows', WORKFLOW],
  ['POST', '/schedules', SCHEDULE],
  ['PUT', '/schedules/nightly', SCHEDULE],
  ['PATCH', '/schedules/nightly', ['{"enabled":$}']],
  ['POST', '/dead-letters/some-id/replay', []],
  // Routes that take no body get one anyway: express.json reads it before any route runs.
  ['POST', '/schedules/nightly/run', []],
  ['DELETE', '/tasks/some-id', []],
  ['DELETE', '/workflows/some-id', []],
  ['DELETE', '/dead-letters/some-id', []],
  ['DELETE', '/schedules/nightly', []],
] as const;

describe('hostile bodies get bounded answers', () => {
  let platform: TestPlatform;
  const violations: string[] = [];

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['gateway'],
      env: {
        NODE_OPTIONS: deployedNodeOptions('gateway'),
        API_KEYS: apiKeysEnv([admin]),
        RATE_LIMIT_REQUESTS: '0',
        RATE_LIMIT_EMAILS: '0',
      },
    });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  async function send(method: string, path: string, body: string, chunked: boolean) {
    const started = performance.now();
    const payload = Buffer.from(body);
    const response = await fetch(`${platform.baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...bearer(admin) },
      // A stream has no Content-Length: the fast path leaves it to the express app.
      body: chunked
        ? new ReadableStream({
            start(controller) {
              controller.enqueue(payload);
              controller.close();
            },
          })
        : payload,
      ...(chunked ? { duplex: 'half' } : {}),
    });
    const answer = await response.arrayBuffer();
    return { status: response.status, bytes: answer.byteLength, ms: performance.now() - started };
  }

  it.each(ROUTES)(
    '%s %s: no 5xx, a bounded answer in bounded time',
    async (method, path, shapes) => {
      await fc.assert(
        fc.asyncProperty(hostileBody(shapes), fc.boolean(), async (body, chunked) => {
          const answer = await send(method, path, body, chunked);
          const where = `${method} ${path} (${chunked ? 'chunked' : 'Content-Length'}) ${body.slice(0, 80)}…`;
          if (
            answer.status >= 500 ||
            answer.bytes > MAX_ANSWER_BYTES ||
            answer.ms > MAX_LATENCY_MS
          ) {
            violations.push(
              `${where}: ${answer.status}, ${answer.bytes} bytes, ${Math.round(answer.ms)} ms`,
            );
          }
          expect(answer.status).toBeLessThan(500);
          expect(answer.bytes).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
          expect(answer.ms).toBeLessThan(MAX_LATENCY_MS);
        }),
        { numRuns: NUM_RUNS },
      );
    },
  );

  it('the gateway is still up, within its memory limit', async () => {
    expect(violations).toEqual([]);
    const [gateway] = platform.running('gateway');
    expect(gateway).toBeDefined();
    expect(residentMb(gateway!.pid)).toBeLessThan(GATEWAY_MEMORY_LIMIT_MB);
    expect((await platform.request('GET', '/livez')).status).toBe(200);
  });
});

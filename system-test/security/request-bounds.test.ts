/**
 * One request must not take the gateway down: a real gateway process, under its deployed heap
 * flags (the service manifest's nodeFlags), meets bodies built to multiply work (a 1 MiB workflow of a half-million
 * members, tens of thousands of bad keys, JSON nested deeper than the limit), workflows that try
 * to bypass the per-task limits, and more event streams than it allows (docs/SECURITY.md,
 * "Bounded work per request").
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { apiKeysEnv, bearer, makeKey, type TestKey } from '../support/api-keys';
import { deployedHeapLimitMb, deployedNodeOptions, residentMb } from '../support/node-flags';
import { TestPlatform } from '../support/test-platform';

jest.setTimeout(180_000);

/** The k8s memory limit of the gateway (k8s/base/gateway.yaml). */
const GATEWAY_MEMORY_LIMIT_MB = 384;
/** A refusal is a few issues, never the size of the request. */
const MAX_ERROR_BYTES = 64 * 1024;
const ONE_MIB = 1024 * 1024;

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
  readonly elapsedMs: number;
}

async function post(
  platform: TestPlatform,
  path: string,
  body: string,
  key: TestKey,
): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(`${platform.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(key) },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    text,
    headers: response.headers,
    elapsedMs: performance.now() - started,
  };
}

/** `{"<field>": [item, item, …]}` of about `bytes` bytes. */
function repeated(prefix: string, item: string, suffix: string, bytes: number): string {
  const count = Math.floor((bytes - prefix.length - suffix.length) / (item.length + 1));
  return `${prefix}${new Array<string>(count).fill(item).join(',')}${suffix}`;
}

const issuesOf = (answer: Answer): { loc: (string | number)[]; msg: string; type: string }[] =>
  (JSON.parse(answer.text) as { detail: { loc: (string | number)[]; msg: string; type: string }[] })
    .detail;

describe('bounded work per request', () => {
  const writer = makeKey('writer', ['tasks:write', 'tasks:read']);
  const bulk = makeKey('bulk', ['tasks:write', 'tasks:read']);
  const mailer = makeKey('mailer', ['tasks:write', 'tasks:read']);
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['gateway'],
      env: {
        NODE_OPTIONS: deployedNodeOptions('gateway'),
        API_KEYS: apiKeysEnv([writer, bulk, mailer]),
        RATE_LIMIT_REQUESTS: '100000',
        RATE_LIMIT_EMAILS: '300',
      },
    });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const gatewayPid = (): number => platform.running('gateway')[0]!.pid;

  /** Posts while sampling the gateway's RSS; returns the answer and the peak RSS. */
  async function postSampled(path: string, body: string): Promise<[Answer, number]> {
    let peak = residentMb(gatewayPid());
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, residentMb(gatewayPid()));
      } catch {
        // the process is gone: the assertions below say so
      }
    }, 10);
    try {
      return [await post(platform, path, body, writer), peak];
    } finally {
      clearInterval(sampler);
    }
  }

  it.each([
    ['scalars', '1', ONE_MIB - 64, ['body'], 'JSON array with more than 100000 items'],
    ['empty objects', '{}', ONE_MIB - 64, ['body'], 'JSON array with more than 100000 items'],
    // Under the item limit, over WORKFLOW_MAX_STEPS: one issue for the whole group.
    ['scalars under the item limit', '1', 190_000, ['body', 'group'], /at most 200 members/],
  ])(
    'answers a workflow of %s with a bounded 422, in bounded time and memory',
    async (_name, member, bytes, loc, msg) => {
      expect(deployedHeapLimitMb('gateway')).toBeLessThan(GATEWAY_MEMORY_LIMIT_MB);
      const body = repeated('{"group":[', member, ']}', bytes);
      const [answer, peakMb] = await postSampled('/workflows', body);

      expect(answer.status).toBe(422);
      expect(answer.text.length).toBeLessThan(MAX_ERROR_BYTES);
      expect(issuesOf(answer)).toEqual([
        {
          loc,
          msg: typeof msg === 'string' ? msg : expect.stringMatching(msg),
          type: expect.any(String),
        },
      ]);
      expect(answer.elapsedMs).toBeLessThan(5_000);
      expect(peakMb).toBeLessThan(GATEWAY_MEMORY_LIMIT_MB);
      expect(platform.running('gateway')).toHaveLength(1);
    },
  );

  it('refuses an object of 60 000 keys before parsing it', async () => {
    const bad = Array.from({ length: 60_000 }, (_, i) => `"-${i.toString(36)}":1`);
    const body = `{"email":"a@example.com","template":"welcome","variables":{${bad.join(',')}}}`;
    const [answer, peakMb] = await postSampled('/tasks/email', body);

    expect(answer.status).toBe(422);
    expect(issuesOf(answer)).toEqual([
      { loc: ['body'], msg: 'JSON object with more than 1000 keys', type: 'value_error' },
    ]);
    expect(answer.elapsedMs).toBeLessThan(5_000);
    expect(peakMb).toBeLessThan(GATEWAY_MEMORY_LIMIT_MB);
  });

  it('cuts the issues of 1000 bad template variables, and says so', async () => {
    const bad = Array.from({ length: 1000 }, (_, i) => `"-${i.toString(36)}":1`);
    const body = `{"email":"a@example.com","template":"welcome","variables":{${bad.join(',')}}}`;
    const answer = await post(platform, '/tasks/email', body, writer);

    expect(answer.status).toBe(422);
    expect(answer.text.length).toBeLessThan(MAX_ERROR_BYTES);
    const issues = issuesOf(answer);
    expect(issues).toHaveLength(51);
    expect(issues.at(-1)).toMatchObject({ loc: ['body'], type: 'too_many_errors' });
    expect(answer.elapsedMs).toBeLessThan(5_000);
  });

  it.each([
    ['the node:http fast path', '/tasks/process'],
    ['the express app', '/workflows'],
  ])('refuses JSON nested too deep before parsing it, on %s', async (_name, path) => {
    // Not JSON after the nesting: a full parse would answer json_invalid, the pre-scan cannot.
    const body = `{"data":${'['.repeat(40)} and then no JSON at all ${'x'.repeat(500_000)}`;
    const answer = await post(platform, path, body, writer);

    expect(answer.status).toBe(422);
    expect(issuesOf(answer)).toEqual([
      { loc: ['body'], msg: 'JSON nested deeper than 32 levels', type: 'value_error' },
    ]);
  });

  it('charges a workflow of 200 e-mail steps 200 requests of its key', async () => {
    const step = { task: 'email', payload: { email: 'a@example.com', subject: 'Hi', body: 'x' } };
    const body = JSON.stringify({ group: new Array(200).fill(step) });
    const answer = await post(platform, '/workflows', body, bulk);
    expect(answer.status).toBe(202);

    const { redis, redisPrefix } = platform.ns;
    expect(await redis.get(`${redisPrefix}ratelimit:bulk`)).toBe('200');
  });

  it('spends the per-key e-mail budget on workflow steps and single e-mails alike', async () => {
    const step = { task: 'email', payload: { email: 'a@example.com', subject: 'Hi', body: 'x' } };
    const workflow = JSON.stringify({ chain: new Array(200).fill(step) });
    expect((await post(platform, '/workflows', workflow, mailer)).status).toBe(202);

    const over = await post(platform, '/workflows', workflow, mailer);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.text).toContain('e-mail');

    // 100 of the 300 are left: single e-mails spend them, then they are refused too.
    const single = JSON.stringify(step.payload);
    for (let i = 0; i < 100; i += 1) {
      expect((await post(platform, '/tasks/email', single, mailer)).status).toBe(202);
    }
    const refused = await post(platform, '/tasks/email', single, mailer);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it("refuses a report step over the report task's payload limit, naming the step's field", async () => {
    const huge = { report_type: 'daily', params: { note: 'x'.repeat(900_000) } };
    const body = JSON.stringify({
      chain: [
        { task: 'process', payload: { data: { records: 1 } } },
        { task: 'report', payload: huge },
      ],
    });
    const answer = await post(platform, '/workflows', body, writer);

    expect(answer.status).toBe(422);
    const issues = issuesOf(answer);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.loc).toEqual(['body', 'chain', 1, 'payload', 'params']);
    expect(issues[0]?.msg).toMatch(/16384 bytes/);
  });
});

/** One event stream over node:http, from a chosen local address. */
interface OpenedStream {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly ended: Promise<void>;
  close(): void;
}

function openStream(url: string, key: TestKey, localAddress = '127.0.0.1'): Promise<OpenedStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      // Its own connection, closed with the stream: nothing is left open after the test.
      { headers: { accept: 'text/event-stream', ...bearer(key) }, localAddress, agent: false },
      (res) => {
        const ended = new Promise<void>((done) => {
          res.on('close', done);
          res.on('end', done);
          res.on('error', () => done());
        });
        res.resume();
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          ended,
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('bounded event streams', () => {
  const keyA = makeKey('stream-a', ['tasks:write', 'tasks:read']);
  const keyB = makeKey('stream-b', ['tasks:write', 'tasks:read']);
  const keyC = makeKey('stream-c', ['tasks:write', 'tasks:read']);
  let platform: TestPlatform;
  const opened: OpenedStream[] = [];

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['gateway'],
      env: {
        API_KEYS: apiKeysEnv([keyA, keyB, keyC]),
        SSE_MAX_STREAMS_PER_KEY: '3',
        SSE_MAX_STREAMS_PER_ADDRESS: '4',
        SSE_MAX_STREAMS: '6',
        SSE_MAX_STREAM_MS: '4000',
      },
    });
  });
  afterEach(async () => {
    for (const stream of opened.splice(0)) {
      stream.close();
      await stream.ended;
    }
  });
  afterAll(async () => {
    await platform?.stop();
  });

  /** A task that stays PENDING (no worker runs here) and its stream URL. */
  async function pendingTaskUrl(key: TestKey): Promise<string> {
    const body = { email: 'a@example.com', subject: 'Hi', body: 'x' };
    const id = await platform.submit('email', body, bearer(key));
    return `${platform.baseUrl}/tasks/${id}/events`;
  }

  async function open(url: string, key: TestKey, address?: string): Promise<OpenedStream> {
    const stream = await openStream(url, key, address);
    opened.push(stream);
    return stream;
  }

  it('answers 429 with Retry-After beyond the caps per key, per address and in total', async () => {
    const [urlA, urlB, urlC] = [
      await pendingTaskUrl(keyA),
      await pendingTaskUrl(keyB),
      await pendingTaskUrl(keyC),
    ];
    for (let i = 0; i < 3; i += 1) expect((await open(urlA, keyA)).status).toBe(200);
    const perKey = await open(urlA, keyA, '127.0.0.2');
    expect(perKey.status).toBe(429);
    expect(perKey.headers['retry-after']).toMatch(/^\d+$/);

    expect((await open(urlB, keyB)).status).toBe(200); // the 4th from 127.0.0.1
    const perAddress = await open(urlB, keyB);
    expect(perAddress.status).toBe(429);
    expect(perAddress.headers['retry-after']).toMatch(/^\d+$/);

    expect((await open(urlB, keyB, '127.0.0.2')).status).toBe(200);
    expect((await open(urlC, keyC, '127.0.0.2')).status).toBe(200); // the 6th in all
    const total = await open(urlC, keyC, '127.0.0.3');
    expect(total.status).toBe(429);
    expect(total.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('ends a stream at its maximum lifetime', async () => {
    const url = await pendingTaskUrl(keyA);
    const started = performance.now();
    const stream = await open(url, keyA);
    expect(stream.status).toBe(200);
    let deadline: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        stream.ended,
        new Promise((_, reject) => {
          deadline = setTimeout(
            () => reject(new Error('the stream outlived its lifetime')),
            20_000,
          );
        }),
      ]);
    } finally {
      clearTimeout(deadline);
    }
    expect(performance.now() - started).toBeGreaterThan(3_500);
  });
});

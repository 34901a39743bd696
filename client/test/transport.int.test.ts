/**
 * The client against a local node:http server that answers what each test scripts: retries of
 * 503 and 429 (Retry-After honoured, one Idempotency-Key across tries), typed errors, the
 * polling fallback of `wait`, its timeout and AbortSignal.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  TasksAuthError,
  TasksClient,
  TasksConnectionError,
  TasksTimeoutError,
  TasksUnavailableError,
  TasksValidationError,
} from '../src';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('TasksClient transport', () => {
  let server: Server;
  let baseUrl: string;
  let handler: Handler;
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; at: number }[] =
    [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        at: Date.now(),
      });
      req.resume();
      req.once('end', () => handler(req, res));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  beforeEach(() => {
    seen.length = 0;
  });

  const json = (res: ServerResponse, status: number, body: unknown, headers = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const client = (retries = 4) =>
    new TasksClient({ baseUrl, retry: { retries, baseDelayMs: 20, maxDelayMs: 2000 } });

  it('retries a 503 after its Retry-After with the same Idempotency-Key, then answers the 202', async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls += 1;
      if (calls === 1) json(res, 503, { detail: 'broker down' }, { 'retry-after': '1' });
      else json(res, 202, { task_id: 't1', status: 'queued', message: 'ok' });
    };
    const created = await client().submit('process', { data: { records: 3 } }, { priority: 5 });
    expect(created.task_id).toBe('t1');
    expect(seen).toHaveLength(2);
    const [first, second] = seen as [(typeof seen)[0], (typeof seen)[0]];
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
    expect(first.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.headers['idempotency-key']).toBe(first.headers['idempotency-key']);
  });

  it('retries 429 with backoff and gives up with TasksUnavailableError after the retries', async () => {
    handler = (_req, res) => json(res, 429, { detail: 'Too Many Requests' });
    const failure = await client(2)
      .get('t1')
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(TasksUnavailableError);
    expect((failure as TasksUnavailableError).status).toBe(429);
    expect(seen).toHaveLength(3);
  });

  it('throws a TasksValidationError naming the field of a 422, without retrying', async () => {
    handler = (_req, res) =>
      json(res, 422, {
        detail: [{ loc: ['body', 'data', 'records'], msg: 'Field required', type: 'missing' }],
      });
    const failure = await client()
      .submit('process', { data: {} } as never)
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(TasksValidationError);
    expect((failure as TasksValidationError).field).toBe('data.records');
    expect((failure as Error).message).toContain('data.records: Field required');
    expect(seen).toHaveLength(1);
  });

  it('sends the API key as a bearer token and maps 401 to TasksAuthError', async () => {
    handler = (_req, res) => json(res, 401, { detail: 'Not authenticated' });
    const failure = await new TasksClient({ baseUrl, apiKey: 'k-1' })
      .get('t1')
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(TasksAuthError);
    expect(seen[0]?.headers.authorization).toBe('Bearer k-1');
  });

  it('throws TasksConnectionError when nothing listens', async () => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    probe.close();
    await once(probe, 'close');
    const failure = await new TasksClient({
      baseUrl: `http://127.0.0.1:${port}`,
      retry: { retries: 1, baseDelayMs: 10 },
    })
      .get('t1')
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(TasksConnectionError);
  });

  it('waits by polling when the event stream is not served, and yields each change once', async () => {
    const states = ['PENDING', 'PROGRESS', 'PROGRESS', 'SUCCESS'];
    let reads = 0;
    handler = (req, res) => {
      if (req.url?.endsWith('/events')) {
        json(res, 404, { detail: 'Not Found' });
        return;
      }
      const status = states[Math.min(reads, states.length - 1)];
      reads += 1;
      json(res, 200, {
        task_id: 't1',
        status,
        result: status === 'PROGRESS' ? { current: 1, total: 2 } : null,
        error: null,
      });
    };
    const updates = [];
    for await (const update of client().progress('t1', { pollIntervalMs: 10 }))
      updates.push(update);
    expect(updates.map((u) => [u.state, u.percent])).toEqual([
      ['PENDING', undefined],
      ['PROGRESS', 50],
      ['SUCCESS', 100],
    ]);
  });

  it('gives up waiting with TasksTimeoutError after timeoutMs, and with the reason on abort', async () => {
    handler = (_req, res) =>
      json(res, 200, { task_id: 't1', status: 'STARTED', result: null, error: null });
    const started = Date.now();
    const timedOut = await client()
      .wait('t1', { timeoutMs: 300, events: false, pollIntervalMs: 20 })
      .catch((err: unknown) => err);
    expect(timedOut).toBeInstanceOf(TasksTimeoutError);
    expect(Date.now() - started).toBeLessThan(2000);

    const controller = new AbortController();
    const waiting = client().wait('t1', { signal: controller.signal, pollIntervalMs: 20 });
    controller.abort(new Error('user stopped'));
    await expect(waiting).rejects.toThrow('user stopped');
  });
});

/**
 * GET /metrics/series against real processes: after tasks succeed, fail and retry, the samples
 * count them with their run time and show each queue's depth, consumers and what the workers
 * hold; only an admin key may read it; with SERIES_INTERVAL_MS=0 it is off (404).
 */
import { waitFor } from '@tasks/runtime/testing';
import { apiKeysEnv, bearer, makeKey } from './support/api-keys';
import { gatewayConnected } from './support/probes';
import { TestPlatform } from './support/test-platform';

interface Sample {
  readonly at: string;
  readonly succeeded: number;
  readonly failed: number;
  readonly retried: number;
  readonly finished_by_service: Record<string, number>;
  readonly latency_ms: { p50: number; p95: number; max: number } | null;
  readonly queue_depth: number;
  readonly queues: { name: string; ready: number; consumers: number; unacked: number | null }[];
}
interface Series {
  readonly interval_s: number;
  readonly window_s: number;
  readonly samples: Sample[];
}

const admin = makeKey('operator', ['admin']);
const client = makeKey('client', ['tasks:read', 'tasks:write']);

describe('GET /metrics/series', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['gateway', 'status-store', 'processing-worker', 'email-worker'],
      env: {
        API_KEYS: apiKeysEnv([admin, client]),
        SERIES_INTERVAL_MS: '500',
        MAX_RETRIES: '1',
        EMAIL_FAIL_FIRST_ATTEMPTS: '5',
      },
    });
    await gatewayConnected(platform);
  }, 90_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  const series = async (): Promise<Series> => {
    const response = await platform.request('GET', '/metrics/series', undefined, bearer(admin));
    expect(response.status).toBe(200);
    return response.body as Series;
  };
  const stateOf = (taskId: string, state: string) =>
    waitFor(
      async () => {
        const response = await platform.request(
          'GET',
          `/tasks/${taskId}`,
          undefined,
          bearer(client),
        );
        return (response.body as { status?: string }).status === state ? true : undefined;
      },
      { timeoutMs: 20_000, message: `task ${taskId} reaches ${state}` },
    );
  const total = (samples: readonly Sample[], field: 'succeeded' | 'failed' | 'retried') =>
    samples.reduce((sum, s) => sum + s[field], 0);

  it('counts finished, failed and retried tasks with their run time and the queues', async () => {
    const ok = await Promise.all(
      [1, 2, 3].map((n) => platform.submit('process', { data: { records: n } }, bearer(client))),
    );
    const failing = await platform.submit(
      'email',
      { email: 'a@example.com', subject: 'Hi', body: 'x' },
      bearer(client),
    );
    await Promise.all(ok.map((id) => stateOf(id, 'SUCCESS')));
    await stateOf(failing, 'FAILURE');

    const body = await waitFor(
      async () => {
        const read = await series();
        return total(read.samples, 'succeeded') >= 3 && total(read.samples, 'failed') >= 1
          ? read
          : undefined;
      },
      { timeoutMs: 10_000, message: 'the samples count the outcomes' },
    );
    expect(body.interval_s).toBe(0.5);
    expect(body.window_s).toBe(3600);
    expect(total(body.samples, 'succeeded')).toBe(3);
    expect(total(body.samples, 'failed')).toBe(1);
    expect(total(body.samples, 'retried')).toBe(1);
    const byService = (service: string) =>
      body.samples.reduce((sum, s) => sum + (s.finished_by_service[service] ?? 0), 0);
    expect(byService('processing-worker')).toBe(3);
    expect(byService('email-worker')).toBe(1);
    const timed = body.samples.filter((s) => s.latency_ms !== null);
    expect(timed.length).toBeGreaterThan(0);
    for (const { latency_ms: latency } of timed) {
      expect(latency!.p50).toBeLessThanOrEqual(latency!.p95);
      expect(latency!.p95).toBeLessThanOrEqual(latency!.max);
    }
    // Queue numbers are read at most every few seconds (QueueStats' cache): a later sample shows
    // the worker's consumer.
    const workQueueName = platform.ns.names.workQueue('processing-worker');
    const last = await waitFor(
      async () => {
        const sample = (await series()).samples.at(-1);
        const queue = sample?.queues.find((q) => q.name === workQueueName);
        return queue && queue.consumers === 1 ? sample : undefined;
      },
      { timeoutMs: 15_000, message: 'a sample shows the work queue consumed' },
    );
    expect(last.queues.find((q) => q.name === workQueueName)).toMatchObject({
      ready: 0,
      consumers: 1,
      unacked: 0,
    });
    expect(last.queue_depth).toBe(last.queues.reduce((sum, q) => sum + q.ready, 0));
    // Oldest first, one interval apart.
    const times = body.samples.map((s) => Date.parse(s.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  }, 45_000);

  it('is for admin keys only', async () => {
    expect((await platform.request('GET', '/metrics/series')).status).toBe(401);
    const refused = await platform.request('GET', '/metrics/series', undefined, bearer(client));
    expect(refused.status).toBe(403);
  });

  it('answers 404 when the series is off', async () => {
    const off = await TestPlatform.start({
      services: ['gateway'],
      env: { SERIES_INTERVAL_MS: '0' },
    });
    try {
      const response = await off.request('GET', '/metrics/series');
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ detail: 'The series is off (SERIES_INTERVAL_MS=0)' });
    } finally {
      await off.stop();
    }
  }, 60_000);
});

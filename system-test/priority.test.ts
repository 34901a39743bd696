/**
 * Priorities end to end: the API's 0-9 reach the broker's priority queue, and the worker's
 * bounded prefetch keeps them honest (PREFETCH defaults to CONCURRENCY).
 */
import { waitFor } from '@tasks/runtime/testing';
import { gatewayConnected } from './support/probes';
import { TestPlatform } from './support/test-platform';

jest.setTimeout(30_000);

/** The processing-worker's defaults (its config.ts): CONCURRENCY 50, PREFETCH = CONCURRENCY. */
const DEFAULT_PREFETCH = 50;
const LOW = 200;

describe('priority', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    // The processing worker is started by the test, once the low-priority tasks are queued.
    platform = await TestPlatform.start({ services: ['status-store', 'gateway'] });
    await gatewayConnected(platform);
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  it('runs a priority 9 task queued behind 200 priority 0 tasks before them, with the default prefetch and concurrency', async () => {
    const low = await Promise.all(
      Array.from({ length: LOW }, (_, i) =>
        platform.submit('process', { data: { records: i }, priority: 0 }),
      ),
    );
    const queue = platform.ns.names.workQueue('processing-worker');
    expect(await platform.ns.depth(queue)).toBe(LOW);

    // A worker with the default CONCURRENCY and PREFETCH (not overridden here); each task takes
    // 2 steps of 250 ms, so its 50 slots finish little while the test looks. Once it consumes,
    // it holds `prefetch` deliveries of the backlog: the broker already handed those over, so
    // the priority task can only overtake what is still in the queue, and runs as soon as a
    // slot frees. The worker is frozen (SIGSTOP) from the moment
    // the queue shows it holding its prefetch until the priority task is queued; the queue depth
    // read while it is frozen says how many low tasks it had received by then (a slow machine
    // may let it finish a few before the freeze). Every other low task must start after the
    // priority one, bar at most a prefetch window of them whose acks, in flight around the
    // freeze, crossed its arrival (seen: two beyond what it held).
    const starting = platform.startService('processing-worker', {
      PROCESS_STEPS: '2',
      PROCESS_STEP_MS: '250',
    });
    await waitFor(async () => (await platform.ns.depth(queue)) <= LOW - DEFAULT_PREFETCH, {
      timeoutMs: 20_000,
      intervalMs: 2,
      message: 'the worker takes its prefetch from the backlog',
    });
    const worker = platform.processes.find((p) => p.name === 'processing-worker')!;
    worker.child.kill('SIGSTOP');
    let urgent: string;
    let received: number;
    try {
      urgent = await platform.submit('process', { data: { records: 1 }, priority: 9 });
      received = LOW - ((await platform.ns.depth(queue)) - 1);
    } finally {
      worker.child.kill('SIGCONT');
    }
    await starting;

    const tasks = await Promise.all(
      [...low, urgent].map((id) => platform.waitForTask(id, 'SUCCESS', 25_000)),
    );
    const startedAt = (id: string): number =>
      Date.parse(String(tasks.find((t) => t.task_id === id)!.started_at));
    const overtaken = low.filter((id) => startedAt(id) > startedAt(urgent)).length;
    expect(received).toBeGreaterThanOrEqual(DEFAULT_PREFETCH);
    expect(LOW - overtaken).toBeLessThanOrEqual(received + DEFAULT_PREFETCH);
    expect(overtaken).toBeGreaterThanOrEqual(LOW / 2); // the backlog was mostly still queued
    expect(platform.running('processing-worker')[0]!.lines).toContainEqual(
      expect.objectContaining({ msg: 'worker started', concurrency: DEFAULT_PREFETCH }),
    );
  });
});

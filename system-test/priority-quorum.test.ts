/**
 * Priorities in quorum mode (WORK_QUEUE_TYPE=quorum), on a private RabbitMQ 3.10 node: quorum
 * queues have no message priorities there, so a command of priority 5-9 takes its service's high
 * lane (`<work queue>.high`), which the worker consumes beside the normal lane, with its own
 * prefetch, and starts before anything of the normal lane that waits for a slot.
 */
import { PrivateRabbit, waitFor } from '@tasks/runtime/testing';
import { stopAfterBrokerFaults } from './support/fault-checks';
import { TestPlatform } from './support/test-platform';

jest.setTimeout(60_000);

/** The processing-worker's defaults (its config.ts): CONCURRENCY 50, PREFETCH = CONCURRENCY. */
const CONCURRENCY = 50;
const LOW = 200;
/** Tasks a slot that frees while the frozen worker wakes may start before it reads the urgent one. */
const WAKE_SLACK = 10;

describe('priority in quorum mode (private node)', () => {
  let rabbit: PrivateRabbit | undefined;
  let platform: TestPlatform | undefined;

  beforeAll(async () => {
    rabbit = await PrivateRabbit.start();
    platform = await TestPlatform.start({
      amqpUrl: rabbit.amqpUrl,
      workQueueType: 'quorum',
      services: ['status-store', 'gateway'],
    });
  }, 150_000);

  afterAll(async () => {
    try {
      await stopAfterBrokerFaults(platform);
    } finally {
      await rabbit?.stop();
    }
  }, 60_000);

  it('declares the work queues as quorum queues, each with a high lane', async () => {
    const out = await rabbit!.ctl('list_queues', '--quiet', '--no-table-headers', 'name', 'type');
    const types = new Map(
      out
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/) as [string, string]),
    );
    const names = platform!.ns.names;
    for (const lane of ['normal', 'high'] as const) {
      expect(types.get(names.laneQueue('processing-worker', lane))).toBe('quorum');
    }
    expect(types.get(names.statusEventsQueue)).toBe('quorum');
    expect(types.get(names.deadQueue('processing-worker'))).toBe('quorum');
  });

  it('runs a priority 9 task queued behind 200 priority 0 tasks before every one not yet running', async () => {
    const p = platform!;
    const normal = p.ns.names.laneQueue('processing-worker', 'normal');
    const high = p.ns.names.laneQueue('processing-worker', 'high');
    const low = await Promise.all(
      Array.from({ length: LOW }, (_, i) =>
        p.submit('process', { data: { records: i }, priority: 0 }),
      ),
    );
    expect(await p.ns.depth(normal)).toBe(LOW);

    // Each task takes 2 steps of 250 ms. The worker is frozen (SIGSTOP) once it holds its
    // prefetch of the normal lane, while the priority task is queued, so nothing finishes then.
    const starting = p.startService('processing-worker', {
      PROCESS_STEPS: '2',
      PROCESS_STEP_MS: '250',
    });
    await waitFor(async () => (await p.ns.depth(normal)) <= LOW - CONCURRENCY, {
      timeoutMs: 20_000,
      intervalMs: 2,
      message: 'the worker takes its prefetch from the normal lane',
    });
    const worker = p.processes.find((s) => s.name === 'processing-worker')!;
    worker.child.kill('SIGSTOP');
    let urgent: string;
    let inHighLane: { ready: number; unacked: number } | undefined;
    try {
      urgent = await p.submit('process', { data: { records: 1 }, priority: 9 });
      // A quorum queue's counts reach rabbitmqctl a moment after the confirm: poll them.
      await waitFor(
        async () => {
          inHighLane = await rabbit!.queueCounts(high);
          return (inHighLane?.ready ?? 0) + (inHighLane?.unacked ?? 0) === 1;
        },
        { timeoutMs: 15_000, intervalMs: 250, message: 'the priority task is in the high lane' },
      );
    } finally {
      worker.child.kill('SIGCONT');
    }
    await starting;

    const tasks = await Promise.all(
      [...low, urgent].map((id) => p.waitForTask(id, 'SUCCESS', 40_000)),
    );
    const startedAt = (id: string): number =>
      Date.parse(String(tasks.find((t) => t.task_id === id)!.started_at));
    const startedBefore = low.filter((id) => startedAt(id) < startedAt(urgent)).length;
    // The high lane handed it over, whatever the worker held of the normal lane: only the tasks
    // already running (CONCURRENCY), and a few slots freed as the worker woke, went first.
    expect((inHighLane?.ready ?? 0) + (inHighLane?.unacked ?? 0)).toBe(1);
    expect(startedBefore).toBeLessThanOrEqual(CONCURRENCY + WAKE_SLACK);
    expect(LOW - startedBefore).toBeGreaterThanOrEqual(LOW - CONCURRENCY - WAKE_SLACK);
  });
});

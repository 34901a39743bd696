/**
 * A 40 s memory alarm over four running tasks (private RabbitMQ node): publishers are blocked,
 * so the tasks' PROGRESS and SUCCESS events cannot be confirmed until it clears. The worker
 * keeps waiting for those confirms instead of handing the tasks back: all four end SUCCESS once
 * it clears, each after exactly one run (one STARTED event), and none is parked.
 */
import { PrivateRabbit, waitFor } from '@tasks/runtime/testing';
import { report, stopAfterBrokerFaults } from '../support/fault-checks';
import { type TaskBody, TestPlatform } from '../support/test-platform';

const ALARM_MS = 40_000;

describe('memory alarm over running tasks (private node)', () => {
  let rabbit: PrivateRabbit | undefined;
  let platform: TestPlatform | undefined;

  beforeAll(async () => {
    rabbit = await PrivateRabbit.start();
    platform = await TestPlatform.start({
      amqpUrl: rabbit.amqpUrl,
      services: ['status-store', 'gateway'],
      events: true,
    });
    await platform.startService('processing-worker', {
      CONCURRENCY: '4',
      PROCESS_STEPS: '10',
      PROCESS_STEP_MS: '500',
      MAX_DELIVERIES: '1',
    });
  }, 150_000);

  afterAll(async () => {
    try {
      await stopAfterBrokerFaults(platform);
    } finally {
      await rabbit?.stop();
    }
  }, 90_000);

  it('ends four tasks running through a 40 s memory alarm SUCCESS, none parked, none run twice', async () => {
    const p = platform!;
    const ids = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        p.submit('process', { data: { records: i + 1 }, description: `alarm ${i}` }),
      ),
    );
    const tasks = (): Promise<TaskBody[]> => Promise.all(ids.map((id) => p.task(id)));
    await waitFor(async () => (await tasks()).every((t) => t.status === 'PROGRESS'), {
      timeoutMs: 20_000,
      intervalMs: 50,
      message: 'all four tasks running',
    });

    await rabbit!.setMemoryAlarm(true);
    const raisedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, ALARM_MS));
    await rabbit!.setMemoryAlarm(false);

    const done = await waitFor(
      async () => {
        const all = await tasks();
        return all.every((t) => ['SUCCESS', 'FAILURE', 'REVOKED'].includes(t.status))
          ? all
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, message: 'all four tasks ended' },
    );
    expect(done.map((t) => [t.task_id, t.status, t.error])).toEqual(
      ids.map((id) => [id, 'SUCCESS', null]),
    );
    // Each task's events as the worker published them: one run each, never handed back and
    // started again (the record keeps only the latest state, so it cannot tell).
    const runs = (id: string): string[] =>
      p.events
        .of(id)
        .filter((e) => e.state === 'STARTED' || e.state === 'SUCCESS')
        .map((e) => `${e.state}#${e.attempt}`);
    await waitFor(() => ids.every((id) => runs(id).includes('SUCCESS#1')), {
      timeoutMs: 10_000,
      intervalMs: 50,
      message: 'every SUCCESS event tapped',
    });
    expect(ids.map(runs)).toEqual(ids.map(() => ['STARTED#1', 'SUCCESS#1']));
    const { body } = await p.request('GET', '/dead-letters');
    expect((body as { dead_letters: unknown[] }).dead_letters).toEqual([]);
    expect(await p.ns.depth(p.ns.names.deadQueue('processing-worker'))).toBe(0);
    report('memory alarm over running tasks', {
      alarm_ms: ALARM_MS,
      success: done.length,
      alarm_to_all_success_ms: Date.now() - raisedAt,
    });
  }, 180_000);
});

/**
 * The report statistics the apply-event script keeps besides the plain counters: run-time
 * buckets, error kinds and records processed, each counted once per applied event (duplicates
 * and late events count nothing).
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379) and RabbitMQ (TestNamespace).
 */
import type { StateEvent, TaskState } from '@tasks/contracts';
import { TaskStore, durationBucket } from '@tasks/runtime';
import { stateEvent, TestNamespace } from '@tasks/runtime/testing';

const TYPE = 'task.data.process';

describe('report statistics in the apply-event script', () => {
  let ns: TestNamespace;
  let store: TaskStore;
  let ids = 0;
  const day = new Date().toISOString().slice(0, 10);
  const taskId = (): string => `stats-task-${(ids += 1)}`;
  const event = (
    taskId: string,
    state: TaskState,
    attempt: number,
    seq: number,
    extra: Partial<StateEvent> = {},
  ): StateEvent => stateEvent(taskId, state, attempt, seq, { type: TYPE, ...extra });

  beforeAll(async () => {
    ns = await new TestNamespace().setup();
    store = new TaskStore(ns.redis, { prefix: ns.redisPrefix, resultTtlS: 3600 });
  });

  afterAll(async () => {
    await ns.destroy();
  });

  it('counts run times, errors and records once per applied event', async () => {
    const [a, b, c, d] = [taskId(), taskId(), taskId(), taskId()];
    const succeeded = event(a, 'SUCCESS', 1, 2, {
      runtime_ms: 120,
      result: { status: 'completed', records_processed: 7 },
    });
    await store.apply(succeeded);
    await store.applyAll([succeeded, succeeded]); // duplicates
    await store.apply(
      event(b, 'SUCCESS', 1, 2, { runtime_ms: 900, result: { records_processed: 5 } }),
    );
    const failure = (id: string): StateEvent =>
      event(id, 'FAILURE', 1, 2, { runtime_ms: 30, error: `row ${id} bad\nstack trace` });
    await store.applyAll([failure(c), failure(c)]);
    await store.apply(
      event(d, 'FAILURE', 1, 2, {
        runtime_ms: 400,
        error: 'no such id 0b7f3c1e-8a9d-4e2f-9c3b-1d2e3f4a5b6c',
      }),
    );
    // A late event of an earlier attempt is ignored, so nothing is counted for it.
    await store.apply(event(d, 'SUCCESS', 1, 1, { runtime_ms: 5000 }));

    const stats = (await store.dayStats([day])).get(day)!;
    expect(stats.counts[TYPE]).toEqual({ SUCCESS: 2, FAILURE: 2 });
    expect(stats.records[TYPE]).toBe(12);
    expect(stats.durations[TYPE]).toEqual({
      SUCCESS: { [durationBucket(120)]: 1, [durationBucket(900)]: 1 },
      FAILURE: { [durationBucket(30)]: 1, [durationBucket(400)]: 1 },
    });
    expect(stats.errors[TYPE]).toEqual({
      [`row ${c} bad`]: 1,
      'no such id <id>': 1,
    });
  });

  it('reads a day nothing happened on as empty', async () => {
    expect((await store.dayStats(['2001-01-01'])).get('2001-01-01')).toEqual({
      counts: {},
      durations: {},
      errors: {},
      records: {},
    });
  });
});

/**
 * A task record's lifetime counts from its terminal state: a queued or running task's record
 * must not expire before the task ends, however long the queue is. RESULT_TTL_S applies from the
 * terminal event on; an unfinished record keeps a long safety lifetime (so one abandoned by a
 * producer killed mid-registration does not stay forever). Each write path is checked: a single
 * event, the status-store's batched script, and the producers' batched PENDING registration.
 *
 * Needs Redis at REDIS_URL and RabbitMQ (TestNamespace); keys live under a fresh prefix.
 */
import type { StateEvent } from '@tasks/contracts';
import { TaskStore } from '@tasks/runtime';
import { stateEvent, TestNamespace, waitFor } from '@tasks/runtime/testing';

const RESULT_TTL_S = 1;
const DAY_S = 86_400;

describe('task record lifetime', () => {
  let ns: TestNamespace;
  let store: TaskStore;

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    store = new TaskStore(ns.redis, { prefix: ns.redisPrefix, resultTtlS: RESULT_TTL_S });
  });

  afterEach(async () => {
    await ns.destroy();
  });

  const event = (taskId: string, state: StateEvent['state'], attempt: number, seq: number) =>
    stateEvent(taskId, state, attempt, seq, {
      worker: 'w',
      ...(state === 'PENDING' ? { created_at: new Date().toISOString() } : {}),
    });
  const ttlOf = (taskId: string): Promise<number> => ns.redis.ttl(store.keys.task(taskId));

  it('keeps a queued record past RESULT_TTL_S, registered by a producer', async () => {
    await store.register(event('queued', 'PENDING', 0, 0));
    expect(await ttlOf('queued')).toBeGreaterThan(DAY_S);
    // Well past RESULT_TTL_S: the record of a task still in the queue is still there.
    await new Promise((resolve) => setTimeout(resolve, (RESULT_TTL_S + 1.5) * 1000));
    expect((await store.get('queued'))?.state).toBe('PENDING');
  });

  it('keeps a running record, written event by event, until its terminal state', async () => {
    await store.apply(event('single', 'PENDING', 0, 0));
    await store.apply(event('single', 'STARTED', 1, 1));
    expect(await ttlOf('single')).toBeGreaterThan(DAY_S);
    await store.apply(event('single', 'SUCCESS', 1, 2));
    expect(await ttlOf('single')).toBeLessThanOrEqual(RESULT_TTL_S);
    await waitFor(async () => (await store.get('single')) === undefined, {
      message: 'the finished record expires RESULT_TTL_S after its terminal state',
    });
  });

  it('does the same for the status-store batched writes', async () => {
    await store.applyAll([
      event('batched', 'PENDING', 0, 0),
      event('batched', 'STARTED', 1, 1),
      event('batched', 'RETRY', 1, 2),
    ]);
    expect(await ttlOf('batched')).toBeGreaterThan(DAY_S);
    await store.applyAll([event('batched', 'FAILURE', 2, 1)]);
    expect(await ttlOf('batched')).toBeLessThanOrEqual(RESULT_TTL_S);
  });
});

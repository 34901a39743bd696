/**
 * The task store's gathered calls against the real Redis: PENDING registrations of one turn
 * in one script call, revocation checks of one callback in one MGET, each answered on its own.
 * Needs Redis at REDIS_URL and RabbitMQ (TestNamespace); keys live under a fresh prefix.
 */
import type { StateEvent } from '@tasks/contracts';
import { TaskStore } from '@tasks/runtime';
import { stateEvent, TestNamespace } from '@tasks/runtime/testing';

describe('TaskStore gathering calls of one turn', () => {
  let ns: TestNamespace;
  let store: TaskStore;

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    store = new TaskStore(ns.redis, { prefix: ns.redisPrefix, resultTtlS: 60 });
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await ns.destroy();
  });

  const pending = (taskId: string, owner: string): StateEvent =>
    stateEvent(taskId, 'PENDING', 0, 0, {
      worker: 'test',
      created_at: new Date().toISOString(),
      priority: 0,
      owner,
    });

  it('registers the PENDING of one turn in one script call, each readable with its own fields', async () => {
    const calls = jest.spyOn(store, 'applyAll');
    const ids = Array.from({ length: 30 }, (_, i) => `t-${i}`);
    const applied = await Promise.all(ids.map((id) => store.register(pending(id, `key-${id}`))));
    expect(applied).toEqual(ids.map(() => true));
    expect(calls).toHaveBeenCalledTimes(1);
    for (const id of ids) {
      const record = await store.get(id);
      expect(record).toMatchObject({ task_id: id, state: 'PENDING', owner: `key-${id}` });
    }
    // The same rule as apply: a second PENDING of a started task is ignored.
    await store.apply({ ...pending('t-0', 'key-t-0'), state: 'STARTED', attempt: 1, seq: 1 });
    expect(await store.register(pending('t-0', 'other'))).toBe(false);
    expect((await store.get('t-0'))?.state).toBe('STARTED');
  });

  it('checks the revocations of one callback with one MGET, answering each task', async () => {
    await store.revoke('t-2', 60);
    await store.revoke('t-5', 60);
    const mget = jest.spyOn(ns.redis, 'mget');
    const ids = Array.from({ length: 8 }, (_, i) => `t-${i}`);
    const revoked = await Promise.all(ids.map((id) => store.isRevoked(id)));
    expect(revoked).toEqual([false, false, true, false, false, true, false, false]);
    expect(mget).toHaveBeenCalledTimes(1);
  });
});

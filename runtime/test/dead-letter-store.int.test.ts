/**
 * DeadLetterStore against the real Redis: each service records under its own keys (its Redis
 * user may write no other's), and the readers see every service's entries as one list, newest
 * first, plus the shared keys of earlier versions until they expire.
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379) and RabbitMQ (TestNamespace).
 * Keys live under a fresh prefix, deleted after each test.
 */
import { type DeadLetter, DeadLetterStore, RedisKeys } from '@tasks/runtime';
import { TestNamespace } from '@tasks/runtime/testing';

const letter = (taskId: string, service: string, parkedAtMs: number): DeadLetter => ({
  task_id: taskId,
  service,
  type: 'task.data.process',
  reason: 'test',
  parked_at: new Date(parkedAtMs).toISOString(),
  parked_by: `${service}@test`,
  attempt: 1,
  priority: 5,
  content: '{}',
  headers: {},
});

describe('DeadLetterStore', () => {
  let ns: TestNamespace;
  let keys: RedisKeys;
  let store: DeadLetterStore;

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    keys = new RedisKeys(ns.redisPrefix);
    store = new DeadLetterStore(ns.redis, ns.redisPrefix);
  });
  afterEach(async () => {
    await ns.destroy();
  });

  it("records each entry under its own service's keys", async () => {
    await store.record(letter('t1', 'email-worker', 1000));
    await store.record(letter('t2', 'processing-worker', 2000));
    expect(await ns.redis.hkeys(keys.deadLettersOf('email-worker'))).toEqual(['t1']);
    expect(await ns.redis.zrange(keys.deadLetterIndexOf('processing-worker'), 0, -1)).toEqual([
      't2',
    ]);
    expect(await ns.redis.exists(keys.legacyDeadLetters)).toBe(0);
    expect(await store.find('t2')).toMatchObject({
      storedBy: 'processing-worker',
      entry: { task_id: 't2' },
    });
  });

  it('lists every service newest first, with the total and pages', async () => {
    await store.record(letter('a', 'email-worker', 1000));
    await store.record(letter('b', 'report-worker', 4000));
    await store.record(letter('c', 'processing-worker', 3000));
    await store.record(letter('d', 'email-worker', 2000));
    // An entry of the shared keys an earlier version wrote.
    await ns.redis.hset(keys.legacyDeadLetters, 'e', JSON.stringify(letter('e', 'x', 5000)));
    await ns.redis.zadd(keys.legacyDeadLetterIndex, 5000, 'e');

    const all = await store.list(10, 0);
    expect(all.total).toBe(5);
    expect(all.items.map((i) => i.task_id)).toEqual(['e', 'b', 'c', 'd', 'a']);
    const page = await store.list(2, 2);
    expect([page.total, page.items.map((i) => i.task_id)]).toEqual([5, ['c', 'd']]);
    expect(await store.find('e')).toMatchObject({ storedBy: undefined });
  });

  it('removes an entry wherever it is, and old ones of every service', async () => {
    await store.record(letter('a', 'email-worker', 1000));
    await store.record(letter('b', 'report-worker', 5000));
    await store.record(letter('c', 'processing-worker', 2000));
    expect(await store.remove('b')).toBe(true);
    expect(await store.remove('b')).toBe(false);
    expect(await store.removeOlderThan(3000)).toBe(2);
    expect(await store.list()).toEqual({ total: 0, items: [] });
  });
});

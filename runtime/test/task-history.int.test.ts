/**
 * The history indexes the apply scripts keep (history-index-script.ts) and TaskHistory's reads,
 * against the real Redis: state moves, ordering, filters, owner scoping, cursor pages while new
 * tasks arrive, the timeline, and the trim of expired records.
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379) and RabbitMQ (TestNamespace).
 * Every key lives under the namespace's prefix and is deleted afterwards.
 */
import type { StateEvent, TaskState } from '@tasks/contracts';
import { type HistoryQuery, TaskHistory, TaskStore } from '@tasks/runtime';
import { stateEvent, TestNamespace, waitFor } from '@tasks/runtime/testing';

const RESULT_TTL_S = 3600;
const BASE_MS = Date.parse('2026-03-01T12:00:00.000Z');

describe('task history indexes', () => {
  let ns: TestNamespace;
  let runs = 0;

  beforeAll(async () => {
    ns = await new TestNamespace().setup();
  });

  afterAll(async () => {
    await ns.destroy();
  });

  /** A store and reader of their own (a prefix per test). */
  const fresh = (resultTtlS = RESULT_TTL_S): { store: TaskStore; history: TaskHistory } => {
    runs += 1;
    const store = new TaskStore(ns.redis, {
      prefix: `${ns.redisPrefix}h${runs}:`,
      resultTtlS,
    });
    return { store, history: new TaskHistory(ns.redis, store) };
  };

  /** PENDING of a task created `i` seconds after BASE_MS. */
  const pending = (id: string, i: number, extra: Partial<StateEvent> = {}): StateEvent => {
    const at = new Date(BASE_MS + i * 1000).toISOString();
    return stateEvent(id, 'PENDING', 0, 0, { at, created_at: at, worker: 'gateway', ...extra });
  };

  const ids = async (history: TaskHistory, query: Partial<HistoryQuery>): Promise<string[]> =>
    (await history.page({ limit: 100, ...query })).tasks.map((t) => t.task_id);

  /** Every page of a query, following the cursor. */
  const allPages = async (history: TaskHistory, query: HistoryQuery): Promise<string[]> => {
    const out: string[] = [];
    let after = query.after;
    for (let pages = 0; pages < 1000; pages += 1) {
      const page = await history.page({ ...query, ...(after ? { after } : {}) });
      out.push(...page.tasks.map((t) => t.task_id));
      if (!page.next) return out;
      after = page.next;
    }
    throw new Error('no end of pages');
  };

  it('lists newest first, and moves a task between state sets as its state changes', async () => {
    const { store, history } = fresh();
    await store.applyAll([pending('a', 1), pending('b', 2), pending('c', 3)]);
    await store.apply(stateEvent('a', 'STARTED', 1, 0));
    await store.applyAll([stateEvent('b', 'STARTED', 1, 0), stateEvent('b', 'SUCCESS', 1, 1)]);

    expect(await ids(history, {})).toEqual(['c', 'b', 'a']);
    expect(await ids(history, { states: ['PENDING'] })).toEqual(['c']);
    expect(await ids(history, { states: ['STARTED'] })).toEqual(['a']);
    expect(await ids(history, { states: ['SUCCESS', 'STARTED'] })).toEqual(['b', 'a']);
    const inSets = await Promise.all(
      (['PENDING', 'STARTED', 'SUCCESS'] as TaskState[]).map((s) =>
        ns.redis.zrange(store.keys.historyIndex(`state:${s}`), 0, -1),
      ),
    );
    expect(inSets).toEqual([['c'], ['a'], ['b']]);

    // The gateway's REVOKED goes through the same script.
    await store.revokeRecord(stateEvent('c', 'REVOKED', 0, Number.MAX_SAFE_INTEGER), 60);
    expect(await ids(history, { states: ['REVOKED'] })).toEqual(['c']);
    expect(await ids(history, { states: ['PENDING'] })).toEqual([]);
  });

  it('filters by type, creation time and text, on any index', async () => {
    const { store, history } = fresh();
    await store.applyAll([
      pending('t-1', 1, { type: 'task.email.send' }),
      pending('t-2', 2),
      pending('t-3', 3),
      pending('x-4', 4, { type: 'task.email.send' }),
    ]);
    await store.apply(stateEvent('t-2', 'FAILURE', 1, 0, { error: 'Disk Full on node 7' }));

    expect(await ids(history, { types: ['task.email.send'] })).toEqual(['x-4', 't-1']);
    expect(await ids(history, { types: ['task.email.send'], states: ['PENDING'] })).toEqual([
      'x-4',
      't-1',
    ]);
    expect(await ids(history, { sinceMs: BASE_MS + 2000, untilMs: BASE_MS + 3000 })).toEqual([
      't-3',
      't-2',
    ]);
    expect(await ids(history, { q: 't-' })).toEqual(['t-3', 't-2', 't-1']);
    expect(await ids(history, { q: 'disk full' })).toEqual(['t-2']);
  });

  it("keeps each key's tasks apart", async () => {
    const { store, history } = fresh();
    await store.applyAll([
      pending('mine-1', 1, { owner: 'key-a' }),
      pending('theirs', 2, { owner: 'key-b' }),
      pending('mine-2', 3, { owner: 'key-a' }),
      pending('schedule', 4),
    ]);
    await store.apply(stateEvent('mine-1', 'SUCCESS', 1, 0));

    expect(await ids(history, { owner: 'key-a' })).toEqual(['mine-2', 'mine-1']);
    expect(await ids(history, { owner: 'key-a', states: ['SUCCESS'] })).toEqual(['mine-1']);
    expect(await ids(history, { owner: 'key-b' })).toEqual(['theirs']);
    expect(await ids(history, { owner: '' })).toEqual([]);
    expect(await ids(history, {})).toEqual(['schedule', 'mine-2', 'theirs', 'mine-1']);
  });

  it('pages by cursor with no duplicate and no gap while new tasks arrive and move', async () => {
    const { store, history } = fresh();
    // Ties on the creation time too: ten tasks per second.
    const first = Array.from({ length: 95 }, (_, i) => pending(`old-${i}`, Math.floor(i / 10)));
    await store.applyAll(first);

    const seen: string[] = [];
    let after: HistoryQuery['after'];
    for (let page = 0; ; page += 1) {
      const got = await history.page({ limit: 10, ...(after ? { after } : {}) });
      seen.push(...got.tasks.map((t) => t.task_id));
      // Between pages: newer tasks arrive, and older ones change state.
      await store.applyAll([pending(`new-${page}`, 1000 + page)]);
      await store.apply(stateEvent(`old-${page}`, 'STARTED', 1, 0));
      if (!got.next) break;
      after = got.next;
    }
    expect(seen).toHaveLength(95);
    expect(new Set(seen)).toEqual(new Set(first.map((e) => e.task_id)));

    // A state set paged while its members leave it: every remaining one, once.
    const pendingNow = await allPages(history, { limit: 7, states: ['PENDING'] });
    expect(new Set(pendingNow).size).toBe(pendingNow.length);
    const stillPending = (await store.getMany(first.map((e) => e.task_id))).filter(
      (r) => r?.state === 'PENDING',
    );
    expect(pendingNow.filter((id) => id.startsWith('old-'))).toHaveLength(stillPending.length);
  });

  it("keeps a task's timeline, its PROGRESS runs coalesced", async () => {
    const { store } = fresh();
    await store.apply(pending('t', 1));
    await store.applyAll([
      stateEvent('t', 'STARTED', 1, 0, { worker: 'w-1' }),
      stateEvent('t', 'PROGRESS', 1, 1, { worker: 'w-1', progress: { current: 1, total: 3 } }),
      stateEvent('t', 'PROGRESS', 1, 2, { worker: 'w-1', progress: { current: 2, total: 3 } }),
      stateEvent('t', 'RETRY', 1, 3, { worker: 'w-1', error: 'timeout' }),
    ]);
    await store.apply(stateEvent('t', 'STARTED', 2, 0, { worker: 'w-2' }));
    await store.apply(stateEvent('t', 'SUCCESS', 2, 1, { worker: 'w-2' }));
    // Ignored (older): not on the timeline.
    await store.apply(stateEvent('t', 'PROGRESS', 1, 5));

    const events = await store.events('t');
    expect(events.map((e) => [e.state, e.attempt, e.worker, e.error])).toEqual([
      ['PENDING', 0, 'gateway', undefined],
      ['STARTED', 1, 'w-1', undefined],
      ['PROGRESS', 1, 'w-1', undefined],
      ['RETRY', 1, 'w-1', 'timeout'],
      ['STARTED', 2, 'w-2', undefined],
      ['SUCCESS', 2, 'w-2', undefined],
    ]);
    expect(events.every((e) => typeof e.time === 'string')).toBe(true);
    expect(await ns.redis.ttl(store.keys.historyEvents('t'))).toBeGreaterThan(RESULT_TTL_S - 60);
  });

  it('drops expired records from every index on later writes, and skips them on read', async () => {
    const { store, history } = fresh(1);
    await store.applyAll([pending('gone', 1, { owner: 'key-a' })]);
    await store.apply(stateEvent('gone', 'FAILURE', 1, 0, { error: 'boom' }));
    await waitFor(async () => (await store.get('gone')) === undefined, { timeoutMs: 5000 });
    // Read before any write: the entry is still there, the record is not.
    expect(await ids(history, {})).toEqual([]);
    expect(await ids(history, { states: ['FAILURE'], owner: 'key-a' })).toEqual([]);

    await store.apply(pending('next', 2));
    const left = await Promise.all([
      ns.redis.zscore(store.keys.historyIndex('all'), 'gone'),
      ns.redis.zscore(store.keys.historyIndex('state:FAILURE'), 'gone'),
      ns.redis.zscore(store.keys.historyIndex('type:task.data.process'), 'gone'),
      ns.redis.zscore(store.keys.historyIndex('owner:key-a'), 'gone'),
      ns.redis.zscore(store.keys.historyIndex('expiry'), 'gone'),
      ns.redis.hget(store.keys.historyIndex('meta'), 'gone'),
      ns.redis.exists(store.keys.historyEvents('gone')),
    ]);
    expect(left).toEqual([null, null, null, null, null, null, 0]);
    expect(await ids(history, {})).toEqual(['next']);
  });

  it('pages through the whole history and through a text filter, in order', async () => {
    const { store, history } = fresh();
    await store.applyAll(Array.from({ length: 30 }, (_, i) => pending(`n-${i}`, i)));
    const all = await allPages(history, { limit: 4 });
    expect(all).toEqual(Array.from({ length: 30 }, (_, i) => `n-${29 - i}`));
    expect(await allPages(history, { limit: 4, q: 'n-1' })).toEqual([
      'n-19',
      'n-18',
      'n-17',
      'n-16',
      'n-15',
      'n-14',
      'n-13',
      'n-12',
      'n-11',
      'n-10',
      'n-1',
    ]);
  });

  it('ends a page short, with a cursor, when a filter no index covers reads past its budget', async () => {
    const { store, history } = fresh();
    const events = [pending('needle', 0)];
    for (let i = 1; i <= 5200; i += 1) events.push(pending(`hay-${i}`, i));
    await store.applyAll(events);

    const first = await history.page({ limit: 10, q: 'needle' });
    expect(first.tasks).toEqual([]);
    expect(first.next).toBeDefined();
    expect(await allPages(history, { limit: 10, q: 'needle' })).toEqual(['needle']);
  });
});

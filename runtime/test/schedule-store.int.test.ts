/**
 * ScheduleStore against the real Redis: the schedule file seeds each name once and never
 * overwrites what the admin API changed; a file schedule deleted through the API stays deleted
 * (its seeded marker is the tombstone); create, replace and delete keep the override and
 * firings of the name in step.
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379) and RabbitMQ (TestNamespace).
 * Keys live under a fresh prefix, deleted after each test.
 */
import { ScheduleSpec } from '@tasks/contracts';
import { RedisKeys, ScheduleStore } from '@tasks/runtime';
import { TestNamespace } from '@tasks/runtime/testing';

const spec = (name: string, every = '1h', extra: Record<string, unknown> = {}): ScheduleSpec =>
  ScheduleSpec.parse({
    name,
    task: 'task.data.process',
    payload: { data: { records: 1 } },
    every,
    ...extra,
  });

describe('ScheduleStore', () => {
  let ns: TestNamespace;
  let store: ScheduleStore;
  let keys: RedisKeys;

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    store = new ScheduleStore(ns.redis, ns.redisPrefix);
    keys = new RedisKeys(ns.redisPrefix);
  });

  afterEach(async () => {
    await ns.destroy();
  });

  const names = async (): Promise<string[]> => (await store.definitions()).map((d) => d.name);

  it('seeds the file at first start and reports what it seeded', async () => {
    const outcome = await store.seed([spec('a'), spec('b', '5m')]);

    expect(outcome).toEqual({ seeded: ['a', 'b'], updated: [] });
    expect(await store.definitions()).toEqual([spec('a'), spec('b', '5m')]);
    expect(await store.seed([spec('a'), spec('b', '5m')])).toEqual({ seeded: [], updated: [] });
  });

  it('never overwrites a schedule replaced through the API, on any later start', async () => {
    await store.seed([spec('a')]);
    expect(await store.replace(spec('a', '2s'))).toBe(true);

    await store.seed([spec('a')]);
    // The file changed too: the runtime definition still wins.
    await store.seed([spec('a', '30m')]);

    expect(await store.definition('a')).toEqual(spec('a', '2s'));
  });

  it('keeps a file schedule deleted through the API deleted (tombstone), even if the file changes', async () => {
    await store.seed([spec('a'), spec('b')]);
    expect(await store.remove('a')).toBe(true);

    expect(await store.seed([spec('a'), spec('b')])).toEqual({ seeded: [], updated: [] });
    await store.seed([spec('a', '10m'), spec('b')]);

    expect(await names()).toEqual(['b']);
    expect(await ns.redis.hexists(keys.scheduleSeeded, 'a')).toBe(1);
  });

  it('keeps a schedule created through the API under a name the file gains later', async () => {
    expect(await store.create(spec('a', '2s'))).toBe(true);

    expect(await store.seed([spec('a')])).toEqual({ seeded: [], updated: [] });

    expect(await store.definition('a')).toEqual(spec('a', '2s'));
    // Once marked seeded, deleting it is final too.
    await store.remove('a');
    await store.seed([spec('a')]);
    expect(await names()).toEqual([]);
  });

  it('applies a changed file entry to a schedule still exactly as seeded, and seeds new names', async () => {
    await store.seed([spec('a')]);

    const outcome = await store.seed([spec('a', '30m'), spec('c')]);

    expect(outcome).toEqual({ seeded: ['c'], updated: ['a'] });
    expect(await store.definition('a')).toEqual(spec('a', '30m'));
  });

  it('replaces definitions of earlier versions (published from the file every tick) once', async () => {
    // As earlier versions published them: no max_catch_up, with next_run_at.
    const legacy = { ...spec('a'), max_catch_up: undefined, next_run_at: null };
    await ns.redis.hset(keys.scheduleDefinitions, 'a', JSON.stringify(legacy));

    expect(await store.seed([spec('a', '1h', { max_catch_up: 50 })])).toEqual({
      seeded: ['a'],
      updated: [],
    });

    expect(await store.definition('a')).toEqual(spec('a', '1h', { max_catch_up: 50 }));
  });

  it('creates only a new name, and clears what a deleted schedule of that name left', async () => {
    await ns.redis.hset(keys.scheduleEnabled, 'a', '0');
    await store.recordFiring('a', new Date('2026-01-01T00:00:00Z'), 'old-task');

    expect(await store.create(spec('a'))).toBe(true);
    expect(await store.create(spec('a', '5m'))).toBe(false);

    expect(await store.definition('a')).toEqual(spec('a'));
    expect(await store.view('a')).toMatchObject({
      name: 'a',
      every: '1h',
      enabled: true,
      payload: { data: { records: 1 } },
      priority: 0,
      max_catch_up: 10,
      next_run_at: null,
      last_run_at: null,
      last_task_id: null,
    });
  });

  it('replaces an existing schedule only, dropping its override and its cursor but not its last run', async () => {
    expect(await store.replace(spec('missing'))).toBe(false);
    await store.create(spec('a'));
    await store.setEnabled('a', false);
    await store.recordFiring('a', new Date('2026-01-01T00:00:00Z'), 'task-1');

    expect(await store.replace(spec('a', '2s', { enabled: true }))).toBe(true);

    expect(await store.view('a')).toMatchObject({
      every: '2s',
      enabled: true,
      last_task_id: 'task-1',
      last_due_at: null,
    });
    expect(await names()).toEqual(['a']);
  });

  it('deletes a schedule with its override, firings and next run; 404-worthy when missing', async () => {
    await store.create(spec('a'));
    await store.setEnabled('a', false);
    await store.recordFiring('a', new Date('2026-01-01T00:00:00Z'), 'task-1');
    await store.publishNextRuns(new Map([['a', '2026-01-01T01:00:00.000Z']]));
    expect((await store.view('a'))?.next_run_at).toBe('2026-01-01T01:00:00.000Z');

    expect(await store.remove('a')).toBe(true);
    expect(await store.remove('a')).toBe(false);

    expect(await store.views()).toEqual([]);
    expect(await ns.redis.exists(keys.scheduleState('a'))).toBe(0);
    expect(await ns.redis.hexists(keys.scheduleEnabled, 'a')).toBe(0);
    expect(await ns.redis.hexists(keys.scheduleNextRuns, 'a')).toBe(0);
  });
});

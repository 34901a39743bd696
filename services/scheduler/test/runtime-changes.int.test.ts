/**
 * The leader takes schedules changed through the store up at its next tick: a created one fires,
 * a replaced one fires its new definition and never a due time twice, a deleted one stops, and
 * PATCH's override pauses one. Real Redis (lease, claims, definitions); the command publisher is
 * a stub that confirms and keeps what it was given; the clock is the test's.
 * Needs Redis at REDIS_URL and RabbitMQ (TestNamespace).
 */
import { type CommandEnvelope, ScheduleSpec } from '@tasks/contracts';
import {
  type CommandPublisher,
  RedisKeys,
  ScheduleStore,
  TaskEnqueuer,
  TaskStore,
} from '@tasks/runtime';
import { silentLog, TestNamespace } from '@tasks/runtime/testing';
import { LeaderLease } from '../src/leader-lease';
import { Scheduler } from '../src/scheduler';

const TICK_MS = 1000;
const START_MS = Date.UTC(2026, 0, 1, 12, 0, 0);

class RecordingPublisher {
  readonly confirmed: CommandEnvelope[] = [];
  publish(command: CommandEnvelope): Promise<void> {
    this.confirmed.push(command);
    return Promise.resolve();
  }
}

const spec = (every: string, records: number): ScheduleSpec =>
  ScheduleSpec.parse({
    name: 'pulse',
    task: 'task.data.process',
    payload: { data: { records } },
    every,
  });

describe('Scheduler with schedules changed at runtime', () => {
  let ns: TestNamespace;
  let store: ScheduleStore;
  let publisher: RecordingPublisher;
  let scheduler: Scheduler;
  let nowMs: number;

  /** Moves the clock on by `ms` and runs one tick. */
  const tickAt = async (ms: number): Promise<void> => {
    nowMs = START_MS + ms;
    await scheduler.tick();
  };
  const fired = (): { due: string; records: unknown }[] =>
    publisher.confirmed.map((c) => ({
      due: String(c.schedule?.due_at),
      records: (c.payload as { data: { records: unknown } }).data.records,
    }));
  const at = (ms: number): string => new Date(START_MS + ms).toISOString();

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    store = new ScheduleStore(ns.redis, ns.redisPrefix);
    publisher = new RecordingPublisher();
    nowMs = START_MS;
    scheduler = new Scheduler({
      store,
      lease: new LeaderLease(ns.redis, new RedisKeys(ns.redisPrefix), 'a', 10_000),
      enqueuer: new TaskEnqueuer(
        new TaskStore(ns.redis, { prefix: ns.redisPrefix, resultTtlS: 60 }),
        publisher as unknown as CommandPublisher,
      ),
      log: silentLog,
      tickMs: TICK_MS,
      now: () => new Date(nowMs),
    });
  });

  afterEach(async () => {
    await scheduler.close();
    await ns.destroy();
  });

  it('fires a created schedule, its replacement from the next tick, and nothing once deleted', async () => {
    await tickAt(100);
    expect(fired()).toEqual([]);

    await store.create(spec('2s', 1));
    await tickAt(2100);
    await tickAt(4100);
    expect(fired()).toEqual([
      { due: at(2000), records: 1 },
      { due: at(4000), records: 1 },
    ]);
    expect((await store.view('pulse'))?.next_run_at).toBe(at(6000));

    // Replaced between ticks: the tick at 4.2 s sees the new definition and does not fire 4 s
    // again, though the new timetable has it too.
    await store.replace(spec('1s', 9));
    await tickAt(4200);
    await tickAt(5100);
    expect(fired().slice(2)).toEqual([{ due: at(5000), records: 9 }]);

    await store.setEnabled('pulse', false);
    await tickAt(6100);
    expect(fired()).toHaveLength(3);
    await store.setEnabled('pulse', true);
    await tickAt(7100);
    expect(
      fired()
        .slice(3)
        .map((f) => f.due),
    ).toEqual([at(6000), at(7000)]);

    await store.remove('pulse');
    await tickAt(8100);
    await tickAt(10_100);
    expect(fired()).toHaveLength(5);
    expect(await ns.redis.hgetall(new RedisKeys(ns.redisPrefix).scheduleNextRuns)).toEqual({});
  });
});

/**
 * A schedule's fire whose publish timed out (outcome unknown) is fired again on the next tick
 * with the same task id. That re-fire must run: the id must not be left revoked, or the worker
 * would skip the re-fired command and the run would be lost.
 *
 * Real Redis (lease, tick claims, task records, revocations); the command publisher is a stub
 * that times out once, as a broker that does not confirm would, then confirms.
 * Needs Redis at REDIS_URL and RabbitMQ (TestNamespace).
 */
import { type CommandEnvelope, ScheduleSpec } from '@tasks/contracts';
import {
  type CommandPublisher,
  PublishTimeoutError,
  RedisKeys,
  ScheduleStore,
  TaskEnqueuer,
  TaskStore,
} from '@tasks/runtime';
import { silentLog, TestNamespace } from '@tasks/runtime/testing';
import { LeaderLease } from '../src/leader-lease';
import { scheduledTaskId } from '../src/scheduled-task-id';
import { Scheduler } from '../src/scheduler';

const TICK_MS = 1000;
/** A whole second plus a little: the every-1s schedule is due at DUE_MS. */
const DUE_MS = Date.UTC(2026, 0, 1, 12, 0, 0);
const NOW = new Date(DUE_MS + 100);

/** Times out on the first publish, confirms every later one; keeps what it confirmed. */
class TimeoutOncePublisher {
  calls = 0;
  readonly confirmed: CommandEnvelope[] = [];

  publish(command: CommandEnvelope): Promise<void> {
    this.calls += 1;
    if (this.calls === 1) {
      return Promise.reject(new PublishTimeoutError('no broker confirm within 10 ms'));
    }
    this.confirmed.push(command);
    return Promise.resolve();
  }
}

describe('Scheduler after a publish timeout', () => {
  let ns: TestNamespace;
  let tasks: TaskStore;
  let publisher: TimeoutOncePublisher;
  let scheduler: Scheduler;

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    tasks = new TaskStore(ns.redis, { prefix: ns.redisPrefix, resultTtlS: 60 });
    publisher = new TimeoutOncePublisher();
    const store = new ScheduleStore(ns.redis, ns.redisPrefix);
    await store.seed([
      ScheduleSpec.parse({
        name: 'every-second',
        task: 'task.data.process',
        payload: { data: { records: 1 } },
        every: '1s',
      }),
    ]);
    scheduler = new Scheduler({
      store,
      lease: new LeaderLease(ns.redis, new RedisKeys(ns.redisPrefix), 'a', 10_000),
      enqueuer: new TaskEnqueuer(tasks, publisher as unknown as CommandPublisher),
      log: silentLog,
      tickMs: TICK_MS,
      now: () => NOW,
    });
  });

  afterEach(async () => {
    await scheduler.close();
    await ns.destroy();
  });

  it('re-fires the tick with the same id, and that id is not revoked', async () => {
    const taskId = scheduledTaskId('every-second', new Date(DUE_MS));

    await scheduler.tick();
    expect(publisher.calls).toBe(1);
    expect(publisher.confirmed).toHaveLength(0);

    await scheduler.tick();
    expect(publisher.confirmed.map((c) => c.task_id)).toEqual([taskId]);
    // The worker skips a revoked id on delivery: the re-fired run would be lost.
    expect(await tasks.isRevoked(taskId)).toBe(false);
    expect((await tasks.get(taskId))?.state).toBe('PENDING');
  });
});

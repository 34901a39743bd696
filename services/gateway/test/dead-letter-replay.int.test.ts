/**
 * Replaying a dead letter publishes its command once, whatever the concurrency: two replays of
 * one dead letter at the same time put one command on the queue. A replay whose publish fails
 * (the broker unavailable: the client gets 503) leaves the task record exactly as it was and the
 * dead letter listed and replayable (the history's indexes and timeline too); the next replay
 * then goes through.
 *
 * Needs RabbitMQ and Redis (TestNamespace): commands are really published and confirmed. The
 * failing publish is a stub that rejects as the publisher does when the broker is down.
 */
import { randomUUID } from 'node:crypto';
import { DATA_PROCESS, type TaskState } from '@tasks/contracts';
import {
  BrokerUnavailableError,
  CommandPublisher,
  DeadLetterStore,
  TaskHistory,
  TaskStore,
} from '@tasks/runtime';
import { commandEnvelope, TestNamespace, TestPublisher } from '@tasks/runtime/testing';
import { DeadLetters } from '../src/dead-letters';

describe('dead-letter replay', () => {
  let ns: TestNamespace;
  let gateway: TestPublisher;
  let commands: CommandPublisher;
  let store: TaskStore;
  let deadLetters: DeadLetterStore;

  beforeAll(async () => {
    ns = await new TestNamespace().setup();
    gateway = await TestPublisher.open(ns, { name: 'test-gateway', appId: 'gateway' });
    commands = new CommandPublisher(gateway.publisher, ns.names, ns.delay);
    store = new TaskStore(ns.redis, { prefix: ns.redisPrefix, resultTtlS: 600 });
    deadLetters = new DeadLetterStore(ns.redis, ns.redisPrefix);
  });

  afterAll(async () => {
    await gateway.close();
    await ns.destroy();
  });

  const workQueue = (): string => ns.names.workQueue('processing-worker');

  /** A task that failed on attempt 1 and was parked: its record and its dead letter. */
  const parked = async (): Promise<string> => {
    const taskId = randomUUID();
    const at = new Date().toISOString();
    const base = { v: 1 as const, task_id: taskId, type: DATA_PROCESS, at, worker: 'w' };
    await store.apply({ ...base, state: 'PENDING', attempt: 0, seq: 0, created_at: at });
    await store.apply({ ...base, state: 'FAILURE', attempt: 1, seq: 1, error: 'parked' });
    const command = commandEnvelope(
      taskId,
      DATA_PROCESS,
      { data: { records: 1 } },
      { created_at: at },
    );
    await deadLetters.record({
      task_id: taskId,
      service: 'processing-worker',
      type: DATA_PROCESS,
      reason: 'crash loop',
      parked_at: at,
      parked_by: 'processing-worker',
      attempt: 1,
      priority: 0,
      content: JSON.stringify(command),
      headers: {},
    });
    return taskId;
  };

  it('publishes once when two replays of one dead letter race', async () => {
    await ns.drain(workQueue());
    const taskId = await parked();
    const replays = new DeadLetters({ deadLetters, store, commands });
    const outcomes = await Promise.allSettled([replays.replay(taskId), replays.replay(taskId)]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    // The other is told the dead letter is being replayed (or already was).
    const refused = outcomes.find((o) => o.status === 'rejected');
    expect(refused?.reason).toMatchObject({ status: expect.any(Number) as number });
    expect([404, 409]).toContain((refused?.reason as { status: number }).status);
    const queued = await ns.drain(workQueue());
    expect(queued.map((m) => m.properties.messageId)).toEqual([taskId]);
    expect(await deadLetters.get(taskId)).toBeUndefined();
    expect(await store.get(taskId)).toMatchObject({ state: 'PENDING', attempt: 2 });
  });

  it('leaves the record as it was and the dead letter replayable when the publish fails', async () => {
    await ns.drain(workQueue());
    const taskId = await parked();
    const before = await store.get(taskId);
    const brokerDown = {
      publishContent: () => Promise.reject(new BrokerUnavailableError('the broker is down')),
    } as unknown as CommandPublisher;

    await expect(
      new DeadLetters({ deadLetters, store, commands: brokerDown }).replay(taskId),
    ).rejects.toMatchObject({ code: 'BROKER_UNAVAILABLE' });
    expect(await store.get(taskId)).toEqual(before);
    // The history's indexes and the timeline are back too.
    const history = new TaskHistory(ns.redis, store);
    const listed = async (state: TaskState): Promise<boolean> =>
      (await history.page({ limit: 500, states: [state] })).tasks.some((t) => t.task_id === taskId);
    expect(await listed('FAILURE')).toBe(true);
    expect(await listed('PENDING')).toBe(false);
    expect((await store.events(taskId)).map((e) => e.state)).toEqual(['PENDING', 'FAILURE']);
    expect(await deadLetters.get(taskId)).toBeDefined();
    expect(await ns.depth(workQueue())).toBe(0);

    const replayed = await new DeadLetters({ deadLetters, store, commands }).replay(taskId);
    expect(replayed).toMatchObject({ task_id: taskId, attempt: 2 });
    const queued = await ns.drain(workQueue());
    expect(queued.map((m) => m.properties.messageId)).toEqual([taskId]);
    expect(await store.get(taskId)).toMatchObject({ state: 'PENDING', attempt: 2 });
  });
});

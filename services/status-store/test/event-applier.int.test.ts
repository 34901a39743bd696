/**
 * The status-store's EventApplier against the real broker and Redis: state events
 * (one per message or batched) are written in arrival order, also with several batches written at
 * once, and acked only once written; poison is parked with its reason; heartbeats feed the worker
 * registry; a Redis outage holds events unacked until they can be written.
 *
 * Needs RabbitMQ at AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), Redis at REDIS_URL
 * (default redis://127.0.0.1:6379) and `redis-server` on the PATH (the outage tests start a
 * private one on a free port). Each test declares its own topology under a fresh prefix and
 * deletes it afterwards.
 */
import {
  eventKey,
  type StateEvent,
  type TaskState,
  WORKER_HEARTBEAT_KEY,
  WORKER_OFFLINE_KEY,
  type WorkerHeartbeat,
} from '@tasks/contracts';
import {
  closeRedis,
  createLogger,
  createRedis,
  Delivery,
  EVENT_BATCH_KEY,
  type Redis,
  type ReplicaAckOptions,
  TaskStore,
  WorkerRegistry,
} from '@tasks/runtime';
import {
  type LoggedLine,
  PrivateRedis,
  recordingLog,
  stateEvent,
  TestConnections,
  TestNamespace,
  waitFor,
} from '@tasks/runtime/testing';
import { EventApplier } from '../src/event-applier';

const TYPE = 'task.email.send';

describe('EventApplier', () => {
  let ns: TestNamespace;
  let connections: TestConnections;
  let store: TaskStore;
  let registry: WorkerRegistry;
  let applier: EventApplier | undefined;
  let logged: LoggedLine[];
  let acks: { at: number; taskIds: string[]; acked: boolean }[];

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    logged = [];
    acks = [];
    const log = recordingLog(logged);
    connections = await TestConnections.open(ns, {
      name: 'test-status-store',
      appId: 'status-store',
      log,
    });

    const ack = Delivery.prototype.ack;
    jest.spyOn(Delivery.prototype, 'ack').mockImplementation(function (this: Delivery) {
      const acked = ack.call(this);
      acks.push({ at: performance.now(), taskIds: taskIdsIn(this.message.content), acked });
      return acked;
    });
  });

  afterEach(async () => {
    await applier?.close();
    applier = undefined;
    await connections.close();
    await ns.destroy();
    jest.restoreAllMocks();
  });

  /** Starts an applier writing through `redis` (the shared Redis unless a test brings its own). */
  async function startApplier(
    redis: Redis = ns.redis,
    replicaAcks?: ReplicaAckOptions,
  ): Promise<EventApplier> {
    const log = recordingLog(logged);
    store = new TaskStore(redis, { prefix: ns.redisPrefix, resultTtlS: 3600, replicaAcks });
    registry = new WorkerRegistry(redis, ns.redisPrefix);
    applier = new EventApplier(
      {
        connection: connections.consume,
        publisher: connections.publisher,
        store,
        registry,
        names: ns.names,
        log,
      },
      // Small batches in several pipelines at once: arrival order must still hold across them.
      { prefetch: 100, batchMax: 2, pipelines: 4 },
    );
    await applier.waitForReady();
    return applier;
  }

  const event = (
    taskId: string,
    state: TaskState,
    attempt: number,
    seq: number,
    extra: Partial<StateEvent> = {},
  ): StateEvent => stateEvent(taskId, state, attempt, seq, { type: TYPE, worker: 'w1', ...extra });

  /** Publishes one event, or a batch, the way StateEventPublisher routes them. */
  const publishEvents = (body: StateEvent | StateEvent[]): Promise<void> =>
    ns.publish(
      ns.names.eventsExchange,
      Array.isArray(body) ? EVENT_BATCH_KEY : eventKey(body.state, 'email'),
      JSON.stringify(body),
    );

  const stateOf = async (taskId: string): Promise<string | undefined> =>
    (await store.get(taskId))?.state;

  it('applies single events and batches in arrival order', async () => {
    await startApplier();

    await publishEvents(event('t1', 'PENDING', 0, 0, { created_at: new Date().toISOString() }));
    await publishEvents([
      event('t1', 'STARTED', 1, 1),
      event('t1', 'PROGRESS', 1, 2, { progress: { current: 1, total: 2 } }),
      event('t1', 'PROGRESS', 1, 3, { progress: { current: 2, total: 2 } }),
    ]);
    await publishEvents(event('t1', 'SUCCESS', 1, 4, { result: { status: 'sent' } }));
    // Two runs of one attempt report the same position: the one that arrived first stays.
    await publishEvents(
      event('t2', 'PROGRESS', 1, 2, { progress: { current: 1, total: 9, status: 'first' } }),
    );
    await publishEvents([
      event('t2', 'PROGRESS', 1, 2, { progress: { current: 1, total: 9, status: 'second' } }),
      event('t2', 'PROGRESS', 1, 1, { progress: { current: 0, total: 9, status: 'older' } }),
    ]);

    await waitFor(() => applier!.applied >= 8, { message: '8 events written' });

    const t1 = await store.get('t1');
    expect(t1).toMatchObject({ state: 'SUCCESS', attempt: 1, result: { status: 'sent' } });
    expect(t1?.started_at).not.toBeNull();
    expect(t1?.completed_at).not.toBeNull();
    expect(await store.get('t2')).toMatchObject({
      state: 'PROGRESS',
      result: { current: 1, total: 9, status: 'first' },
    });
    expect(acks).toHaveLength(5);
    expect(acks.every((a) => a.acked)).toBe(true);
    await applier!.close();
    expect(await ns.depth(ns.names.statusEventsQueue)).toBe(0);
  });

  it('parks poison events in status-store.dead with the reason and keeps applying', async () => {
    await startApplier();
    const deadQueue = ns.names.deadQueue('status-store');

    await ns.publish(ns.names.eventsExchange, 'task.success.email', '{"task_id": "t1", oops');
    await ns.publish(
      ns.names.eventsExchange,
      'task.bogus.email',
      JSON.stringify({ ...event('t2', 'SUCCESS', 1, 1), state: 'BOGUS' }),
    );
    await ns.publish(ns.names.eventsExchange, WORKER_HEARTBEAT_KEY, JSON.stringify({ worker: '' }));
    await publishEvents(event('t3', 'SUCCESS', 1, 1));

    await waitFor(async () => (await stateOf('t3')) === 'SUCCESS');
    await waitFor(async () => (await ns.depth(deadQueue)) === 3, { message: '3 parked events' });
    const parked = await ns.drain(deadQueue);
    expect(parked.map((m) => m.properties.headers?.['x-original-routing-key'])).toEqual([
      'task.success.email',
      'task.bogus.email',
      WORKER_HEARTBEAT_KEY,
    ]);
    const reasons = parked.map((m) => String(m.properties.headers?.['x-park-reason']));
    expect(reasons[0]).toMatch(/^unparseable JSON/);
    expect(reasons[1]).toMatch(/^invalid state event: state/);
    expect(reasons[2]).toMatch(/^invalid heartbeat/);
    for (const message of parked) {
      expect(message.properties.headers).toMatchObject({
        'x-original-queue': ns.names.statusEventsQueue,
        'x-parked-by': 'status-store',
      });
    }
    expect(await store.get('t2')).toBeUndefined();
    await applier!.close();
    expect(await ns.depth(ns.names.statusEventsQueue)).toBe(0);
  });

  it('records heartbeats in the worker registry and marks a worker offline on its notice', async () => {
    await startApplier();
    const beat: WorkerHeartbeat = {
      worker: 'email-worker@host-1',
      service: 'email-worker',
      hostname: 'host',
      pid: 1,
      task_types: [TYPE],
      at: new Date().toISOString(),
      interval_ms: 60_000,
      active: [{ task_id: 't1', type: TYPE, attempt: 1 }],
      reserved: [],
      processed: 3,
      concurrency: 4,
    };

    await ns.publish(ns.names.eventsExchange, WORKER_HEARTBEAT_KEY, JSON.stringify(beat));
    const online = await waitFor(async () =>
      (await registry.list()).find((w) => w.worker === beat.worker),
    );
    expect(online).toMatchObject({ online: true, processed: 3, active: [{ task_id: 't1' }] });

    await ns.publish(
      ns.names.eventsExchange,
      WORKER_OFFLINE_KEY,
      JSON.stringify({ worker: beat.worker, service: beat.service, at: new Date().toISOString() }),
    );
    const offline = await waitFor(async () =>
      (await registry.list()).find((w) => w.worker === beat.worker && !w.online),
    );
    expect(offline).toMatchObject({ active: [], reserved: [] });
  });

  describe('during a Redis outage', () => {
    let privateRedis: PrivateRedis;
    let redis: Redis;

    beforeAll(async () => {
      privateRedis = await PrivateRedis.start();
    });

    afterAll(async () => {
      await privateRedis.stop();
    });

    beforeEach(() => {
      redis = createRedis({
        url: privateRedis.url,
        name: 'status-store',
        log: createLogger({ service: 'test', level: 'silent' }),
        commandTimeoutMs: 500,
      });
    });

    afterEach(async () => {
      await applier?.close();
      applier = undefined;
      await closeRedis(redis);
    });

    /** Ten tasks, each as a batch (PENDING, STARTED, PROGRESS) and a single SUCCESS. */
    const publishTenTasks = async (): Promise<string[]> => {
      const ids = Array.from({ length: 10 }, (_, i) => `outage-${i}`);
      for (const id of ids) {
        await publishEvents([
          event(id, 'PENDING', 0, 0),
          event(id, 'STARTED', 1, 1),
          event(id, 'PROGRESS', 1, 2, { progress: { current: 1, total: 1 } }),
        ]);
        await publishEvents(event(id, 'SUCCESS', 1, 3, { result: id }));
      }
      return ids;
    };

    const allSucceeded = async (ids: readonly string[]): Promise<boolean> => {
      const states = await Promise.all(ids.map(stateOf));
      return states.every((s) => s === 'SUCCESS');
    };

    it('holds events unacked while Redis is frozen and writes every one after it recovers', async () => {
      await startApplier(redis);

      privateRedis.freeze();
      const ids = await publishTenTasks();
      await waitFor(
        () => logged.filter((l) => l.msg === 'event write failed; retrying').length >= 2,
        {
          message: 'two failed write attempts',
        },
      );
      // Every event was delivered to the applier, none acked: all held, none lost.
      expect(await ns.depth(ns.names.statusEventsQueue)).toBe(0);
      expect(acks).toHaveLength(0);

      const thawedAt = performance.now();
      privateRedis.thaw();
      await waitFor(() => allSucceeded(ids), { timeoutMs: 15_000, message: 'all tasks SUCCESS' });
      await waitFor(() => acks.length === 20, { message: '20 acks' });

      expect(acks.every((a) => a.acked && a.at >= thawedAt)).toBe(true);
      expect(new Set(acks.flatMap((a) => a.taskIds))).toEqual(new Set(ids));
      for (const id of ids) {
        expect(await store.get(id)).toMatchObject({ state: 'SUCCESS', attempt: 1, result: id });
      }
      await applier!.close();
      expect(await ns.depth(ns.names.statusEventsQueue)).toBe(0);
    }, 30_000);

    it('holds events unacked while Redis refuses writes (CLIENT PAUSE WRITE)', async () => {
      await startApplier(redis);
      const pauseMs = 1500;

      const admin = createRedis({
        url: privateRedis.url,
        name: 'test-admin',
        log: createLogger({ service: 'test', level: 'silent' }),
      });
      const pausedAt = performance.now();
      try {
        await admin.client('PAUSE', pauseMs, 'WRITE');
      } finally {
        await closeRedis(admin);
      }
      const ids = await publishTenTasks();
      await waitFor(() => logged.some((l) => l.msg === 'event write failed; retrying'), {
        message: 'a failed write attempt',
      });
      expect(acks).toHaveLength(0);

      await waitFor(() => allSucceeded(ids), { timeoutMs: 15_000, message: 'all tasks SUCCESS' });
      await waitFor(() => acks.length === 20, { message: '20 acks' });

      // Nothing can be written before the pause ends, so nothing was acked before it either.
      expect(acks.every((a) => a.acked && a.at >= pausedAt + pauseMs - 5)).toBe(true);
      await applier!.close();
      expect(await ns.depth(ns.names.statusEventsQueue)).toBe(0);
    }, 30_000);
  });

  describe('with replica acks (Redis behind Sentinel)', () => {
    let master: PrivateRedis;
    let replica: PrivateRedis;
    let redis: Redis;
    let onReplica: Redis;

    beforeAll(async () => {
      master = await PrivateRedis.start();
      replica = await PrivateRedis.start({
        extraArgs: ['--replicaof', '127.0.0.1', String(master.port)],
      });
      const log = createLogger({ service: 'test', level: 'silent' });
      redis = createRedis({ url: master.url, name: 'status-store', log });
      onReplica = createRedis({ url: replica.url, name: 'test-replica', log });
      await waitFor(async () =>
        (await onReplica.info('replication')).includes('master_link_status:up'),
      );
    }, 30_000);

    afterAll(async () => {
      await Promise.all([closeRedis(redis), closeRedis(onReplica)]);
      await Promise.all([master.stop(), replica.stop()]);
    });

    it('acks an event only once the replica has it: none while it is frozen, all after', async () => {
      await startApplier(redis, { replicas: 1, timeoutMs: 200 });
      replica.freeze();
      let thawedAt: number;
      try {
        await publishEvents(event('r-1', 'SUCCESS', 1, 3, { result: 'r-1' }));
        await waitFor(() => logged.some((l) => l.msg === 'event write failed; retrying'), {
          message: 'a write the replica did not confirm',
        });
        // Written on the master, yet held: a failover now would not lose it.
        expect(await redis.hget(`${ns.redisPrefix}task:r-1`, 'state')).toBe('SUCCESS');
        expect(acks).toHaveLength(0);
      } finally {
        thawedAt = performance.now();
        replica.thaw();
      }
      await waitFor(() => acks.length === 1, { timeoutMs: 10_000, message: 'the event acked' });
      expect(acks[0]!.at).toBeGreaterThanOrEqual(thawedAt);
      expect(await onReplica.hget(`${ns.redisPrefix}task:r-1`, 'state')).toBe('SUCCESS');
      await applier!.close();
      expect(await ns.depth(ns.names.statusEventsQueue)).toBe(0);
    }, 30_000);
  });
});

/** Task ids a message carries (one event or a batch); empty for anything else. */
function taskIdsIn(content: Buffer): string[] {
  try {
    const body = JSON.parse(content.toString('utf8')) as unknown;
    const items = Array.isArray(body) ? body : [body];
    return items.flatMap((e) =>
      typeof (e as { task_id?: unknown }).task_id === 'string'
        ? [(e as { task_id: string }).task_id]
        : [],
    );
  } catch {
    return [];
  }
}

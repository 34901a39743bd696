/**
 * The status-store never stalls silently behind one event. An event whose write fails every time
 * (its task's key holds a value of the wrong type: Redis answers WRONGTYPE for it, and only for
 * it) is parked alone with the reason, and the rest of its batch, and everything after it, is
 * applied. A write Redis refuses whatever it is (OOM here; NOPERM alike) parks nothing: the
 * events wait unacked, the refusal is logged as an error and readiness turns red until Redis
 * takes writes again.
 *
 * Real RabbitMQ (own prefix) and Redis: the shared one for the poison event, a private one for
 * the refusal (its `maxmemory` is lowered, which must not happen on the shared server).
 */
import { eventKey, type StateEvent } from '@tasks/contracts';
import {
  closeRedis,
  createLogger,
  createRedis,
  EVENT_BATCH_KEY,
  type Redis,
  TaskStore,
  WorkerRegistry,
} from '@tasks/runtime';
import {
  type LoggedLine,
  PrivateRedis,
  recordingLog,
  TestConnections,
  TestNamespace,
  waitFor,
} from '@tasks/runtime/testing';
import { EventApplier } from '../src/event-applier';

const TYPE = 'task.email.send';

describe('EventApplier with events that cannot be written', () => {
  let ns: TestNamespace;
  let connections: TestConnections;
  let store: TaskStore;
  let applier: EventApplier | undefined;
  let logged: LoggedLine[];

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    logged = [];
    const log = createLogger({ service: 'test', level: 'silent' });
    connections = await TestConnections.open(ns, {
      name: 'test-status-store',
      appId: 'status-store',
      log,
    });
  });

  afterEach(async () => {
    await applier?.close();
    applier = undefined;
    await connections.close();
    await ns.destroy();
  });

  async function startApplier(redis: Redis = ns.redis): Promise<EventApplier> {
    store = new TaskStore(redis, { prefix: ns.redisPrefix, resultTtlS: 3600 });
    applier = new EventApplier(
      {
        connection: connections.consume,
        publisher: connections.publisher,
        store,
        registry: new WorkerRegistry(redis, ns.redisPrefix),
        names: ns.names,
        log: recordingLog(logged),
      },
      { prefetch: 100, batchMax: 10, pipelines: 2 },
    );
    await applier.waitForReady();
    return applier;
  }

  const event = (task_id: string, state: StateEvent['state'], seq: number): StateEvent => ({
    v: 1,
    task_id,
    type: TYPE,
    state,
    attempt: 1,
    seq,
    at: new Date().toISOString(),
    worker: 'w1',
  });

  const publishEvents = (body: StateEvent | StateEvent[]): Promise<void> =>
    ns.publish(
      ns.names.eventsExchange,
      Array.isArray(body) ? EVENT_BATCH_KEY : eventKey(body.state, 'email'),
      JSON.stringify(body),
    );

  const stateOf = async (taskId: string): Promise<string | undefined> =>
    (await store.get(taskId))?.state;

  it('parks an event that fails every time alone and applies the rest of its batch', async () => {
    await startApplier();
    const deadQueue = ns.names.deadQueue('status-store');
    // Not a hash: every script touching this task's record fails with WRONGTYPE.
    await ns.redis.set(`${ns.redisPrefix}task:bad`, 'not a hash');

    await publishEvents([
      event('a', 'STARTED', 1),
      event('bad', 'SUCCESS', 2),
      event('b', 'SUCCESS', 3),
    ]);
    await publishEvents(event('c', 'SUCCESS', 1));

    await waitFor(
      async () =>
        (await stateOf('a')) === 'STARTED' &&
        (await stateOf('b')) === 'SUCCESS' &&
        (await stateOf('c')) === 'SUCCESS',
      { timeoutMs: 20_000, message: 'the events around the poison one applied' },
    );
    await waitFor(async () => (await ns.depth(deadQueue)) === 1, {
      timeoutMs: 20_000,
      message: 'the poison event parked',
    });
    const [parked] = await ns.drain(deadQueue);
    expect(JSON.parse(parked!.content.toString('utf8'))).toEqual(
      [event('bad', 'SUCCESS', 2)].map((e) => ({ ...e, at: expect.any(String) as string })),
    );
    expect(String(parked!.properties.headers?.['x-park-reason'])).toMatch(/WRONGTYPE/);
    expect(parked!.properties.headers).toMatchObject({ 'x-parked-by': 'status-store' });
    expect(logged).toContainEqual({ level: 'error', msg: 'event parked' });
    await waitFor(async () => (await ns.depth(ns.names.statusEventsQueue)) === 0);
  }, 40_000);

  describe('when Redis refuses every write', () => {
    let privateRedis: PrivateRedis;
    let redis: Redis;

    beforeEach(async () => {
      privateRedis = await PrivateRedis.start();
      redis = createRedis({
        url: privateRedis.url,
        name: 'status-store',
        log: createLogger({ service: 'test', level: 'silent' }),
        commandTimeoutMs: 1000,
      });
    }, 30_000);

    afterEach(async () => {
      await applier?.close();
      applier = undefined;
      await closeRedis(redis);
      await privateRedis.stop();
    });

    it('keeps the events, logs an error and reports not ready until Redis takes writes again', async () => {
      await startApplier(redis);
      await redis.config('SET', 'maxmemory', '1');

      await publishEvents([event('r1', 'STARTED', 1), event('r2', 'SUCCESS', 2)]);
      await waitFor(() => applier!.writesHealthy === false, {
        timeoutMs: 10_000,
        message: 'readiness red',
      });
      await waitFor(
        () => logged.filter((l) => l.level === 'error' && /refused/.test(l.msg)).length >= 1,
        { timeoutMs: 10_000, message: 'the refusal logged as an error' },
      );
      // Long enough for poison isolation to have parked them, were they taken for poison.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(await ns.depth(ns.names.deadQueue('status-store'))).toBe(0);
      expect(logged.some((l) => l.msg === 'event parked')).toBe(false);

      await redis.config('SET', 'maxmemory', '0');
      await waitFor(
        async () => (await stateOf('r1')) === 'STARTED' && (await stateOf('r2')) === 'SUCCESS',
        { timeoutMs: 20_000, message: 'the events applied once Redis takes writes' },
      );
      await waitFor(() => applier!.writesHealthy, { message: 'readiness green again' });
    }, 60_000);
  });
});

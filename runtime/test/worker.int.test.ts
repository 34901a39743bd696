/**
 * The worker loop (runtime/src/worker/run-worker.ts) against the real broker and Redis: acks
 * after confirmed events, retries through the delay levels, parking, revocation, time limits,
 * deferral and graceful drain.
 *
 * Needs RabbitMQ at AMQP_URL (default amqp://guest:guest@127.0.0.1:5672) and Redis at REDIS_URL
 * (default redis://127.0.0.1:6379). Each test declares its own topology under a fresh prefix
 * (delay unit 20 ms, 12 levels) and deletes it afterwards. State events are collected from an
 * exclusive queue bound to the namespace's events exchange (`task.#`).
 */
import {
  type CommandEnvelope,
  EMAIL_SEND,
  EmailSendPayload,
  type StateEvent,
} from '@tasks/contracts';
import {
  AmqpConnection,
  CommandPublisher,
  ConfirmPublisher,
  createLogger,
  DeadLetterStore,
  DeferError,
  defineTask,
  Delivery,
  errorCode,
  PermanentError,
  type PublishOptions,
  type RetryPolicyConfig,
  ShutdownError,
  type TaskContext,
  type TaskStore,
  type Worker,
  type WorkerOptions,
} from '@tasks/runtime';
import {
  commandEnvelope,
  EventTap,
  type TappedEvent,
  TaskNames,
  TEST_AMQP_URL,
  TestConnections,
  TestNamespace,
  testTaskStore,
  testWorker,
  waitFor,
} from '@tasks/runtime/testing';
import * as amqplib from 'amqplib';

const log = createLogger({ service: 'test', level: 'silent' });
const DELAY = { unitMs: 20, levels: 12 };
const SERVICE = 'email-worker';
const PAYLOAD: EmailSendPayload = { email: 'someone@example.test', subject: 'hi', body: 'hello' };
/** Broker hops, quorum-queue expiry and event-loop turns on top of a delay, in ms. */
const DELAY_SLACK_MS = 400;

/** The tests name their tasks; commands carry UUIDs. */
const { idOf, nameOf } = new TaskNames();

interface Call {
  readonly taskId: string;
  readonly attempt: number;
  readonly startedAt: number;
  endedAt?: number;
  abortCode?: string;
}

/** A test's handler: may answer at once (a plain value or throw) or later (a promise). */
type Handler = (payload: EmailSendPayload, ctx: TaskContext, call: Call) => unknown;

/** A ConfirmPublisher that records confirmed state events and can hold them back. */
class RecordingPublisher extends ConfirmPublisher {
  /** While set, a confirmed state event is reported to the worker only once this resolves. */
  gate: Promise<void> | undefined;
  readonly confirmed: { at: number; events: StateEvent[] }[] = [];
  /** The AMQP `type` of every confirmed message to the tasks exchange (commands). */
  readonly commandTypes: string[] = [];

  constructor(
    connection: AmqpConnection,
    private readonly eventsExchange: string,
  ) {
    super(connection, { publishTimeoutMs: 5000, appId: 'test', log });
  }

  override async publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options?: PublishOptions,
  ): Promise<void> {
    await super.publish(exchange, routingKey, content, options);
    if (exchange.endsWith('tasks')) this.commandTypes.push(String(options?.type));
    if (exchange !== this.eventsExchange || !routingKey.startsWith('task.')) return;
    const body = JSON.parse(content.toString('utf8')) as StateEvent | StateEvent[];
    this.confirmed.push({ at: performance.now(), events: Array.isArray(body) ? body : [body] });
    if (this.gate) await this.gate;
  }
}

describe('Worker', () => {
  let raw: amqplib.ChannelModel;
  let ns: TestNamespace;
  let tap: EventTap;
  let connections: TestConnections<RecordingPublisher>;
  let consumeConnection: AmqpConnection;
  let publisher: RecordingPublisher;
  let store: TaskStore;
  let commands: CommandPublisher;
  let worker: Worker | undefined;
  let calls: Call[];
  let acks: { taskId: unknown; at: number; acked: boolean }[];
  const releases = new Set<() => void>();
  let queue: string;
  let deadQueue: string;

  beforeAll(async () => {
    raw = await amqplib.connect(TEST_AMQP_URL);
  });

  afterAll(async () => {
    await raw.close();
  });

  beforeEach(async () => {
    ns = await new TestNamespace({ delayUnitMs: DELAY.unitMs, delayLevels: DELAY.levels }).setup();
    queue = ns.names.workQueue(SERVICE);
    deadQueue = ns.names.deadQueue(SERVICE);
    calls = [];
    acks = [];
    tap = await EventTap.start(ns);
    connections = await TestConnections.open(ns, {
      name: 'test-worker',
      publisher: (connection) => new RecordingPublisher(connection, ns.names.eventsExchange),
    });
    consumeConnection = connections.consume;
    publisher = connections.publisher;
    store = testTaskStore(ns);
    commands = new CommandPublisher(publisher, ns.names, DELAY);

    const ack = Delivery.prototype.ack;
    jest.spyOn(Delivery.prototype, 'ack').mockImplementation(function (this: Delivery) {
      const acked = ack.call(this);
      acks.push({
        taskId: nameOf(this.message.properties.messageId),
        at: performance.now(),
        acked,
      });
      return acked;
    });
  });

  afterEach(async () => {
    publisher.gate = undefined;
    for (const release of releases) release();
    releases.clear();
    await worker?.close();
    worker = undefined;
    await connections.close();
    await tap.close();
    await ns.destroy();
    jest.restoreAllMocks();
  });

  interface StartOptions extends Partial<Omit<WorkerOptions, 'retry'>> {
    readonly retry?: Partial<RetryPolicyConfig>;
    readonly timeLimitMs?: number;
    readonly softTimeLimitMs?: number;
    readonly taskRetry?: Partial<RetryPolicyConfig>;
    readonly taskTimeLimitMs?: number;
    readonly taskSoftTimeLimitMs?: number;
  }

  /** Starts a Worker for `task.email.send` whose handler records each call. */
  async function startWorker(handler: Handler, options: StartOptions = {}): Promise<Worker> {
    const task = defineTask({
      routingKey: EMAIL_SEND,
      payload: EmailSendPayload,
      handler: async (payload: EmailSendPayload, ctx: TaskContext) => {
        const call: Call = {
          taskId: String(nameOf(ctx.taskId)),
          attempt: ctx.attempt,
          startedAt: performance.now(),
        };
        calls.push(call);
        ctx.signal.addEventListener('abort', () => {
          call.abortCode = errorCode(ctx.signal.reason);
        });
        try {
          return await handler(payload, ctx, call);
        } finally {
          call.endedAt = performance.now();
        }
      },
      retry: options.taskRetry,
      timeLimitMs: options.taskTimeLimitMs,
      softTimeLimitMs: options.taskSoftTimeLimitMs,
    });
    const { taskRetry: _r, taskTimeLimitMs: _t, taskSoftTimeLimitMs: _s, ...rest } = options;
    worker = testWorker(
      ns,
      connections,
      { service: SERVICE, name: 'test-worker', tasks: [task], ...rest },
      { store, delay: DELAY, log },
    );
    await worker.start();
    return worker;
  }

  const command = (taskId: string, payload: unknown = PAYLOAD): CommandEnvelope =>
    commandEnvelope(idOf(taskId), EMAIL_SEND, payload);

  /** Publishes a command through the platform's CommandPublisher; resolves on its confirm. */
  const submit = (taskId: string, delayMs?: number): Promise<void> =>
    commands.publish(command(taskId), { attempt: 1, delayMs });

  /** Publishes raw bytes to the tasks exchange as a producer outside the platform could. */
  const submitRaw = (content: string, messageId?: string): Promise<void> =>
    ns.publish(ns.names.tasksExchange, EMAIL_SEND, content, { messageId, type: EMAIL_SEND });

  const eventsOf = (taskId: string): TappedEvent[] =>
    tap.events.filter((e) => nameOf(e.task_id) === taskId);
  const statesOf = (taskId: string): string[] =>
    eventsOf(taskId).map((e) => `${e.state}:${e.attempt}`);

  const waitForEvent = (
    taskId: string,
    state: StateEvent['state'],
    timeoutMs = 5000,
  ): Promise<TappedEvent> =>
    waitFor(() => eventsOf(taskId).find((e) => e.state === state), {
      timeoutMs,
      message: `${state} event of ${taskId} (seen: ${statesOf(taskId).join(', ') || 'none'})`,
    });

  /** Resolves when the signal aborts or the test ends. */
  const untilAborted = (signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
      releases.add(resolve);
    });

  const parked = async (count: number): Promise<amqplib.GetMessage[]> => {
    await waitFor(async () => (await ns.depth(deadQueue)) >= count, {
      message: `${count} parked message(s) in ${deadQueue}`,
    });
    return ns.drain(deadQueue);
  };

  describe('success', () => {
    it('acks a command only after its state events were confirmed', async () => {
      publisher.gate = new Promise<void>((resolve) => releases.add(resolve));
      await startWorker(() => ({ status: 'sent' }));

      await submit('t1');
      const success = await waitForEvent('t1', 'SUCCESS');

      // The events are on the broker (we received them), but not yet reported as confirmed.
      expect(success).toMatchObject({ attempt: 1, result: { status: 'sent' } });
      expect(acks).toHaveLength(0);
      expect(await ns.depth(queue)).toBe(0); // delivered, held unacked

      for (const release of releases) release();
      const ack = await waitFor(() => acks.find((a) => a.taskId === 't1'));
      expect(ack.acked).toBe(true);
      const lastConfirm = Math.max(
        ...publisher.confirmed
          .filter((c) => c.events.some((e) => e.task_id === idOf('t1')))
          .map((c) => c.at),
      );
      expect(ack.at).toBeGreaterThanOrEqual(lastConfirm);
      expect(statesOf('t1')).toEqual(['STARTED:1', 'SUCCESS:1']);

      // Closing hands unacked messages back: nothing may be left, ready or unacked.
      await worker!.close();
      expect(await ns.depth(queue)).toBe(0);
    });
  });

  describe('results', () => {
    it('fails a task whose result cannot be serialised, with the reason, and keeps working', async () => {
      await startWorker(
        (_payload, ctx) => {
          if (nameOf(ctx.taskId) === 'bigint') return { total: 10n };
          if (nameOf(ctx.taskId) === 'cycle') {
            const node: Record<string, unknown> = { name: 'loop' };
            node.self = node;
            return node;
          }
          return { status: 'sent' };
        },
        { concurrency: 1, prefetch: 1 },
      );

      await submit('bigint');
      await submit('cycle');
      await submit('after');

      const bigint = await waitForEvent('bigint', 'FAILURE');
      expect(bigint).toMatchObject({ attempt: 1 });
      expect(bigint.error).toMatch(/^result cannot be serialised as JSON: .*BigInt/);
      const cycle = await waitForEvent('cycle', 'FAILURE');
      expect(cycle.error).toMatch(/^result cannot be serialised as JSON: .*circular/i);
      await waitForEvent('after', 'SUCCESS');
      expect(statesOf('bigint')).toEqual(['STARTED:1', 'FAILURE:1']);
      await worker!.close();
      expect(await ns.depth(queue)).toBe(0);
      expect(await ns.depth(deadQueue)).toBe(0);
    });
  });

  describe('retries', () => {
    it('retries a failing task with base * factor^(n-1) between attempts, then succeeds', async () => {
      await startWorker((_payload, ctx) => {
        if (ctx.attempt < 3) throw new Error(`transient failure ${ctx.attempt}`);
        return { status: 'sent' };
      });

      await submit('t1');
      const success = await waitForEvent('t1', 'SUCCESS', 10_000);

      expect(success.attempt).toBe(3);
      expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
      const retries = eventsOf('t1').filter((e) => e.state === 'RETRY');
      expect(retries.map((e) => [e.attempt, e.error])).toEqual([
        [1, 'transient failure 1'],
        [2, 'transient failure 2'],
      ]);
      // Announced waits: 200 then 400 ms (jitter 0).
      // (announced before the retry's publish; the event's own time is taken after its confirm)
      const [announced1, announced2] = retries.map(
        (e) => Date.parse(e.next_retry_at!) - Date.parse(e.at),
      );
      expectWithin('announced wait 1', announced1!, 100, 200);
      expectWithin('announced wait 2', announced2!, 300, 400);
      // Measured waits, from the failure to the next attempt's start: never early.
      const [first, second, third] = calls;
      const wait1 = third && second && first ? second.startedAt - first.endedAt! : NaN;
      const wait2 = third && second ? third.startedAt - second.endedAt! : NaN;
      expectWithin('wait before attempt 2', wait1, 200, 200 + DELAY_SLACK_MS);
      expectWithin('wait before attempt 3', wait2, 400, 400 + DELAY_SLACK_MS);
      expect(wait2 - wait1).toBeGreaterThan(100);
    });

    it('retries through the same delay level more than once without losing the task', async () => {
      // Equal waits take the same delay levels each time: a retry must not carry the broker's
      // dead-letter history, or RabbitMQ takes the second pass for a cycle and drops it.
      await startWorker(
        (_payload, ctx) => {
          if (ctx.attempt < 4) throw new Error('transient');
          return { status: 'sent' };
        },
        { retry: { baseMs: 60, factor: 1 } },
      );

      await submit('t1');
      const success = await waitForEvent('t1', 'SUCCESS');

      expect(success.attempt).toBe(4);
      expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3, 4]);
    });

    it('fails a task at once on a PermanentError, without retrying or parking it', async () => {
      await startWorker(() => {
        throw new PermanentError('mailbox does not exist');
      });

      await submit('t1');
      const failure = await waitForEvent('t1', 'FAILURE');

      expect(failure).toMatchObject({ attempt: 1, error: 'mailbox does not exist' });
      await worker!.close();
      expect(calls).toHaveLength(1);
      expect(statesOf('t1')).toEqual(['STARTED:1', 'FAILURE:1']);
      expect(await ns.depth(queue)).toBe(0);
      expect(await ns.depth(deadQueue)).toBe(0);
    });

    it('fails a task that used up its retries and parks a copy with the reason', async () => {
      await startWorker(
        () => {
          throw new Error('smtp down');
        },
        { taskRetry: { maxRetries: 1, baseMs: 50 } },
      );

      await submit('t1');
      const failure = await waitForEvent('t1', 'FAILURE');

      expect(failure).toMatchObject({ attempt: 2, error: 'smtp down' });
      expect(statesOf('t1')).toEqual(['STARTED:1', 'RETRY:1', 'STARTED:2', 'FAILURE:2']);
      const [copy, ...more] = await parked(1);
      expect(more).toHaveLength(0);
      expect(nameOf(copy!.properties.messageId)).toBe('t1');
      expect(copy!.properties.headers).toMatchObject({
        'x-park-reason': 'failed after 2 attempts: smtp down',
        'x-attempt': 2,
        'x-original-queue': queue,
        'x-parked-by': 'test-worker',
      });
      expect(JSON.parse(copy!.content.toString('utf8'))).toMatchObject({ task_id: idOf('t1') });
      const indexed = await new DeadLetterStore(ns.redis, ns.redisPrefix).get(idOf('t1'));
      expect(indexed).toMatchObject({ service: SERVICE, attempt: 2, reason: expect.any(String) });
      await worker!.close();
      expect(await ns.depth(queue)).toBe(0);
    });

    it('defers a task without counting an attempt on a DeferError', async () => {
      await startWorker(() => {
        if (calls.length === 1) throw new DeferError('circuit open', 150);
        return { status: 'sent' };
      });

      await submit('t1');
      const success = await waitForEvent('t1', 'SUCCESS');

      expect(success.attempt).toBe(1);
      expect(calls.map((c) => c.attempt)).toEqual([1, 1]);
      // 150 ms is rounded up to whole delay units: 8 x 20 ms.
      expectWithin('deferral', calls[1]!.startedAt - calls[0]!.endedAt!, 160, 160 + DELAY_SLACK_MS);
      expect(eventsOf('t1').map((e) => e.state)).not.toContain('RETRY');
      expect(eventsOf('t1').map((e) => e.state)).not.toContain('FAILURE');
    });
  });

  describe('poison messages', () => {
    it('parks unparseable and schema-invalid messages with the reason and keeps consuming', async () => {
      await startWorker(() => ({ status: 'sent' }));

      await submitRaw('{"task_id": "p-json", oops', 'p-json');
      await submitRaw(JSON.stringify(command('p-payload', { subject: 'no address' })), 'p-payload');
      const { created_at: _missing, ...noCreatedAt } = command('p-envelope');
      await submitRaw(JSON.stringify(noCreatedAt), 'p-envelope');
      await submitRaw('not even json');
      await submit('good');

      await waitForEvent('good', 'SUCCESS');
      const copies = await parked(4);
      const reasons = new Map(
        copies.map((m) => [
          String(m.properties.messageId ?? '(none)'),
          String(m.properties.headers?.['x-park-reason']),
        ]),
      );
      expect(reasons.get('p-json')).toMatch(/^unparseable JSON/);
      expect(reasons.get('p-payload')).toMatch(/^invalid payload: email/);
      expect(reasons.get('p-envelope')).toMatch(/^invalid command: created_at/);
      expect(reasons.get('(none)')).toMatch(/^unparseable JSON/);

      for (const id of ['p-json', 'p-payload', 'p-envelope']) {
        const failure = await waitForEvent(id, 'FAILURE');
        expect(failure.error).toBe(reasons.get(id));
        expect(statesOf(id)).toEqual(['FAILURE:1']);
      }
      expect(calls.map((c) => c.taskId)).toEqual(['good']);
      await worker!.close();
      expect(await ns.depth(queue)).toBe(0);
    });

    it('charges a crash loop to the task that causes it and parks only that one', async () => {
      // A "process" is a Worker on its own consume connection. The culprit "kills" it: the
      // connection closes for good (the broker redelivers what it held) and no run of that
      // process ever ends, as after a real crash. A supervisor starts the next process.
      const processes: { worker: Worker; connection: AmqpConnection }[] = [];
      const startProcess = (): { died: Promise<void> } => {
        let die!: () => void;
        const died = new Promise<void>((resolve) => {
          die = resolve;
        });
        let dead = false;
        const connection = new AmqpConnection({
          url: TEST_AMQP_URL,
          name: `test-worker-${processes.length}.consume`,
          heartbeatS: 5,
          log,
        });
        const task = defineTask({
          routingKey: EMAIL_SEND,
          payload: EmailSendPayload,
          handler: async (_payload: EmailSendPayload, ctx: TaskContext) => {
            calls.push({
              taskId: String(nameOf(ctx.taskId)),
              attempt: ctx.attempt,
              startedAt: performance.now(),
            });
            if (nameOf(ctx.taskId) === 'culprit') {
              // What a crash now would leave charged to the others: a lone run before this one
              // must have taken its charge back before anything else started.
              chargesAtCrash.push(
                ...(await ns.redis.mget(
                  ['i1', 'i2', 'i3'].map((id) => store.keys.crashes(idOf(id), 1)),
                )),
              );
              dead = true;
              die();
              void connection.close();
            } else {
              await Promise.race([new Promise((resolve) => setTimeout(resolve, 300)), died]);
            }
            if (dead) {
              await untilAborted(ctx.signal); // a dead process's runs never end
              throw new ShutdownError();
            }
            return { status: 'sent' };
          },
        });
        const worker = testWorker(
          ns,
          connections,
          {
            service: SERVICE,
            name: `test-worker-${processes.length}`,
            tasks: [task],
            concurrency: 4,
            prefetch: 4,
            maxDeliveries: 1,
            drainTimeoutMs: 200,
          },
          { consumeConnection: connection, store, delay: DELAY, log },
        );
        processes.push({ worker, connection });
        // Not awaited: the culprit can kill it before its control consumer is registered.
        void worker.start().catch(() => undefined);
        return { died };
      };
      // The culprit last: in quarantine the innocents run alone before it, one after another.
      const ids = ['i1', 'i2', 'i3', 'culprit'];
      const chargesAtCrash: (string | null)[] = [];
      const ended = (): boolean =>
        ids.every((id) => eventsOf(id).some((e) => ['SUCCESS', 'FAILURE'].includes(e.state)));

      try {
        for (const id of ids) await submit(id);
        let restarts = 0;
        for (;;) {
          const { died } = startProcess();
          const outcome = await Promise.race([
            died.then(() => 'died' as const),
            waitFor(ended, { timeoutMs: 15_000, message: 'every task ended' }).then(
              () => 'ended' as const,
            ),
          ]);
          if (outcome === 'ended') break;
          restarts += 1;
          expect(restarts).toBeLessThanOrEqual(5);
        }

        for (const id of ['i1', 'i2', 'i3']) await waitForEvent(id, 'SUCCESS');
        const failure = await waitForEvent('culprit', 'FAILURE');
        expect(failure.error).toBe('killed its worker 1 times running alone (crash loop)');
        // Its fresh run and its first redelivery run beside others and are not charged; its
        // lone runs are: one crash charged (maxDeliveries 1), the next lone run parks it.
        expect(calls.filter((c) => c.taskId === 'culprit')).toHaveLength(3);
        const [copy, ...more] = await parked(1);
        expect(more).toHaveLength(0);
        expect(nameOf(copy!.properties.messageId)).toBe('culprit');
        expect(copy!.properties.headers?.['x-park-reason']).toBe(failure.error);
        for (const id of ['i1', 'i2', 'i3']) {
          expect(await ns.redis.get(store.keys.crashes(idOf(id), 1))).not.toBe('1');
        }
        expect(chargesAtCrash.filter((charge) => charge !== null && charge !== '0')).toEqual([]);
      } finally {
        for (const release of releases) release();
        for (const p of processes) {
          await p.worker.close();
          await p.connection.close();
        }
      }
      expect(await ns.depth(queue)).toBe(0);
    }, 60_000);
  });

  describe('nothing runs twice for bookkeeping reasons', () => {
    /** Publishes a command as a redelivery would come (a command handed back). */
    const redeliver = (taskId: string, attempt: number): Promise<void> =>
      ns.publish(ns.names.tasksExchange, EMAIL_SEND, JSON.stringify(command(taskId)), {
        messageId: idOf(taskId),
        type: EMAIL_SEND,
        headers: { 'x-attempt': attempt, 'x-handed-back': true },
      });
    const record = (
      taskId: string,
      state: StateEvent['state'],
      attempt: number,
    ): Promise<boolean> =>
      store.apply({
        v: 1,
        task_id: idOf(taskId),
        type: EMAIL_SEND,
        state,
        attempt,
        seq: 1,
        at: new Date().toISOString(),
        worker: 'elsewhere',
      });

    it('acks without running a redelivered command whose task already ended', async () => {
      await record('ended', 'SUCCESS', 1);
      await startWorker(() => ({ status: 'sent' }), { concurrency: 1, prefetch: 1 });

      await redeliver('ended', 1);
      await submit('after');
      await waitForEvent('after', 'SUCCESS');

      expect(calls.map((c) => c.taskId)).toEqual(['after']);
      expect(acks.find((a) => a.taskId === 'ended')?.acked).toBe(true);
      expect(eventsOf('ended')).toEqual([]);
      await worker!.close();
      expect(await ns.depth(queue)).toBe(0);
    });

    it('acks without running a redelivered attempt older than the record', async () => {
      // Attempt 1 failed and its retry (attempt 2) already runs elsewhere: running attempt 1
      // again would start a second retry chain.
      await record('moved-on', 'STARTED', 2);
      await record('retried', 'RETRY', 1);
      await startWorker(() => ({ status: 'sent' }), { concurrency: 1, prefetch: 1 });

      await redeliver('moved-on', 1);
      await redeliver('retried', 1);
      await submit('after');
      await waitForEvent('after', 'SUCCESS');

      expect(calls.map((c) => c.taskId)).toEqual(['after']);
      expect(acks.filter((a) => a.taskId !== 'after').map((a) => [a.taskId, a.acked])).toEqual([
        ['moved-on', true],
        ['retried', true],
      ]);
      await worker!.close();
      expect(await ns.depth(queue)).toBe(0);
    });

    it('runs a redelivered command whose attempt the record has not finished', async () => {
      await record('unfinished', 'STARTED', 1);
      await startWorker(() => ({ status: 'sent' }));

      await redeliver('unfinished', 1);

      await waitForEvent('unfinished', 'SUCCESS');
      expect(calls.map((c) => c.taskId)).toEqual(['unfinished']);
    });

    it('does not run a task a second time when its delivery comes back while it still runs here', async () => {
      // As after a consumer timeout: the broker closes the channel of a delivery held too
      // long and hands it out again, here, while the first run goes on.
      let finish!: () => void;
      const finishing = new Promise<void>((resolve) => {
        finish = resolve;
        releases.add(resolve);
      });
      await startWorker(async () => {
        await finishing;
        return { status: 'sent' };
      });

      await submit('long');
      await waitFor(() => calls.length === 1);
      const channels = acks.length;
      await consumeConnection.manager.connection?.close();
      // The redelivery arrives on the new channel and is held, not run.
      await waitFor(() => worker!.snapshot().active.length === 1 && channels === acks.length);
      await ns.waitForDepth(queue, 0, 'the redelivery taken by the worker');
      finish();

      await waitForEvent('long', 'SUCCESS');
      await waitFor(() => acks.some((a) => a.taskId === 'long' && a.acked), {
        message: 'the held redelivery acked',
      });
      expect(calls.map((c) => c.taskId)).toEqual(['long']);
      await worker!.close();
      expect(await ns.depth(queue)).toBe(0);
    });
    it('does not run a task again when its ack was lost with its channel after it finished here', async () => {
      // A connection cut after the events' confirms, before the ack: the broker hands the
      // command out again, and the record may not say SUCCESS yet (the status-store is cut
      // too, or lags). This process knows it finished the attempt.
      let openGate!: () => void;
      publisher.gate = new Promise<void>((resolve) => {
        openGate = resolve;
        releases.add(resolve);
      });
      await startWorker(() => ({ status: 'sent' }), { concurrency: 1, prefetch: 1 });

      await submit('cut');
      await waitFor(() =>
        publisher.confirmed.some((c) =>
          c.events.some((e) => e.task_id === idOf('cut') && e.state === 'SUCCESS'),
        ),
      );
      await consumeConnection.manager.connection?.close();
      openGate();
      await waitFor(() => acks.some((a) => a.taskId === 'cut' && !a.acked), {
        message: 'the first ack dropped with its channel',
      });
      await waitFor(() => acks.some((a) => a.taskId === 'cut' && a.acked), {
        timeoutMs: 15_000,
        message: 'the redelivery acked',
      });
      await submit('after');
      await waitForEvent('after', 'SUCCESS');

      expect(calls.map((c) => c.taskId)).toEqual(['cut', 'after']);
      await worker!.close();
      expect(await ns.depth(queue)).toBe(0);
    });
  });

  describe('closed channels', () => {
    it('does not start a waiting delivery whose channel closed; the redelivery runs instead', async () => {
      let finish!: () => void;
      const finishing = new Promise<void>((resolve) => {
        finish = resolve;
        releases.add(resolve);
      });
      await startWorker(
        async (_payload, ctx) => {
          if (nameOf(ctx.taskId) === 'first') await finishing;
          return { status: 'sent' };
        },
        { concurrency: 1, prefetch: 3 },
      );

      await submit('first');
      await waitFor(() => calls.length === 1);
      await submit('w1');
      await submit('w2');
      await waitFor(() => worker!.snapshot().reserved.length === 2, {
        message: 'two deliveries waiting for the slot',
      });
      await consumeConnection.manager.connection?.close();
      // The broker hands all three out again on the new channel.
      await waitFor(
        async () => (await ns.depth(queue)) === 0 && worker!.snapshot().reserved.length >= 2,
        {
          message: 'the redeliveries taken',
        },
      );
      finish();

      for (const id of ['first', 'w1', 'w2']) await waitForEvent(id, 'SUCCESS');
      await worker!.close();
      const runs = (id: string): number => calls.filter((c) => c.taskId === id).length;
      expect(['first', 'w1', 'w2'].map((id) => [id, runs(id)])).toEqual([
        ['first', 1],
        ['w1', 1],
        ['w2', 1],
      ]);
      expect(await ns.depth(queue)).toBe(0);
    });
  });

  describe('revocation', () => {
    it('skips a task revoked before delivery without calling its handler', async () => {
      await startWorker(() => ({ status: 'sent' }), { concurrency: 1, prefetch: 1 });

      await store.revoke(idOf('revoked'), 60);
      await submit('revoked');
      await submit('after');
      await waitForEvent('after', 'SUCCESS');

      expect(calls.map((c) => c.taskId)).toEqual(['after']);
      // Said, not silent: a cancel whose REVOKED event was lost (a Redis error half-way) still
      // ends the task.
      const revoked = await waitForEvent('revoked', 'REVOKED');
      expect(revoked).toMatchObject({ attempt: 1, error: 'revoked' });
      expect(statesOf('revoked')).toEqual(['REVOKED:1']);
      expect(acks.find((a) => a.taskId === 'revoked')?.acked).toBe(true);
      await worker!.close();
      expect(await ns.depth(queue)).toBe(0);
    });

    it('aborts a running task on a revoke broadcast and ends it REVOKED', async () => {
      await startWorker(async (_payload, ctx) => {
        await untilAborted(ctx.signal);
        throw ctx.signal.reason;
      });

      await submit('t1');
      await waitFor(() => calls.length === 1);
      await ns.publish(
        ns.names.controlExchange,
        '',
        JSON.stringify({ kind: 'revoke', task_id: idOf('t1'), at: new Date().toISOString() }),
      );
      const revoked = await waitForEvent('t1', 'REVOKED');

      expect(calls[0]!.abortCode).toBe('TASK_REVOKED');
      expect(revoked.attempt).toBe(1);
      expect(statesOf('t1')).toEqual(['STARTED:1', 'REVOKED:1']);
      await worker!.close();
      expect(await ns.depth(queue)).toBe(0);
      expect(await ns.depth(deadQueue)).toBe(0);
    });

    it('ignores a revoke broadcast for a task it is not running', async () => {
      await startWorker(() => ({ status: 'sent' }));
      await ns.publish(
        ns.names.controlExchange,
        '',
        JSON.stringify({
          kind: 'revoke',
          task_id: idOf('elsewhere'),
          at: new Date().toISOString(),
        }),
      );
      await ns.publish(ns.names.controlExchange, '', 'not json');

      await submit('t1');

      await waitForEvent('t1', 'SUCCESS');
      expect(calls[0]!.abortCode).toBeUndefined();
    });
  });

  describe('time limits', () => {
    it('aborts the signal at the soft time limit and lets the handler finish', async () => {
      await startWorker(
        async (_payload, ctx) => {
          await untilAborted(ctx.signal);
          return { status: 'cleaned up' };
        },
        { taskSoftTimeLimitMs: 150 },
      );

      await submit('t1');
      const success = await waitForEvent('t1', 'SUCCESS');

      expect(calls[0]!.abortCode).toBe('TASK_SOFT_TIME_LIMIT');
      expect(calls[0]!.endedAt! - calls[0]!.startedAt).toBeGreaterThanOrEqual(145);
      expect(success).toMatchObject({ attempt: 1, result: { status: 'cleaned up' } });
    });

    it('fails the attempt at the hard time limit and retries it', async () => {
      await startWorker(
        async (_payload, ctx) => {
          if (ctx.attempt === 1) await untilAborted(ctx.signal);
          return { status: 'sent' };
        },
        { taskTimeLimitMs: 150, taskRetry: { maxRetries: 1, baseMs: 50 } },
      );

      await submit('t1');
      const success = await waitForEvent('t1', 'SUCCESS');

      expect(success.attempt).toBe(2);
      expect(calls[0]!.abortCode).toBe('TASK_TIME_LIMIT');
      const retry = eventsOf('t1').find((e) => e.state === 'RETRY');
      expect(retry).toMatchObject({ attempt: 1, error: 'task exceeded its time limit of 150 ms' });
      expect(retry!.runtime_ms).toBeGreaterThanOrEqual(145);
    });
  });

  describe('delay levels', () => {
    it('delivers a shorter delay first although it was published after a longer one', async () => {
      await startWorker(() => ({ status: 'sent' }));

      const longPublished = performance.now();
      await submit('long', 3000);
      const shortPublished = performance.now();
      await submit('short', 1000);

      await waitForEvent('long', 'SUCCESS', 8000);

      expect(calls.map((c) => c.taskId)).toEqual(['short', 'long']);
      const [short, long] = calls;
      expectWithin('short delay', short!.startedAt - shortPublished, 1000, 1000 + DELAY_SLACK_MS);
      expectWithin('long delay', long!.startedAt - longPublished, 3000, 3000 + DELAY_SLACK_MS);
    });
  });

  describe('graceful drain', () => {
    it('lets an in-flight task finish within the drain time, acks it and stops consuming', async () => {
      await startWorker(
        async (_payload, ctx) => {
          await new Promise((resolve) => setTimeout(resolve, 300)); // the task's own work
          ctx.signal.throwIfAborted();
          return { status: 'sent' };
        },
        { drainTimeoutMs: 3000 },
      );

      await submit('t1');
      await waitFor(() => calls.length === 1);
      await worker!.close();

      expect(worker!.lifecycle).toBe('stopped');
      expect(calls[0]!.abortCode).toBeUndefined();
      expect(acks.find((a) => a.taskId === 't1')?.acked).toBe(true);
      await waitForEvent('t1', 'SUCCESS');
      expect(await ns.depth(queue)).toBe(0);

      await submit('t2');
      expect(await ns.depth(queue)).toBe(1); // no consumer any more
      expect(calls).toHaveLength(1);
    });

    it('aborts a task longer than the drain time and hands its message back to the queue', async () => {
      await startWorker(
        async (_payload, ctx) => {
          await untilAborted(ctx.signal);
          throw ctx.signal.reason;
        },
        { drainTimeoutMs: 300 },
      );

      await submit('t1');
      await waitFor(() => calls.length === 1);
      const started = performance.now();
      await worker!.close();

      expectWithin('close time', performance.now() - started, 295, 2000);
      expect(calls[0]!.abortCode).toBe('TASK_SHUTDOWN');
      expect(acks.filter((a) => a.taskId === 't1')).toEqual([]);
      expect(await ns.depth(queue)).toBe(1);
      const [back] = await ns.drain(queue);
      expect(nameOf(back!.properties.messageId)).toBe('t1');
      expect(back!.fields.redelivered).toBe(true);
      expect(back!.properties.headers?.['x-attempt']).toBe(1);
      expect(statesOf('t1')).toEqual(['STARTED:1']);
    });
  });
  describe('command batches (COMMAND_BATCH_MAX)', () => {
    const batched = (): CommandPublisher =>
      new CommandPublisher(publisher, ns.names, DELAY, { batchMax: 10 });
    /** Commands published in one turn: they share one message. */
    const submitTogether = (ids: readonly string[]): Promise<void[]> => {
      const one = batched();
      return Promise.all(ids.map((id) => one.publish(command(id), { attempt: 1 })));
    };

    it('handles each command of a batch alone and acks the message once all are settled', async () => {
      await startWorker(
        (_payload, ctx) => {
          if (nameOf(ctx.taskId) === 'flaky' && ctx.attempt === 1) throw new Error('transient');
          return { status: 'sent' };
        },
        { concurrency: 2, prefetch: 2 },
      );
      await store.revoke(idOf('revoked'), 60);
      const ids = ['a', 'b', 'flaky', 'poison', 'revoked', 'c'];
      const one = batched();
      await Promise.all(
        ids.map((id) =>
          one.publish(command(id, id === 'poison' ? { subject: 'no address' } : PAYLOAD), {
            attempt: 1,
          }),
        ),
      );
      expect(publisher.commandTypes).toEqual(['task.command.batch']);

      for (const id of ['a', 'b', 'c']) await waitForEvent(id, 'SUCCESS');
      expect(statesOf('flaky')).toContain('RETRY:1');
      expect((await waitForEvent('flaky', 'SUCCESS', 5000)).attempt).toBe(2);
      const failure = await waitForEvent('poison', 'FAILURE');
      expect(failure.error).toMatch(/^invalid payload: email/);
      expect(statesOf('revoked')).toEqual(['REVOKED:1']);
      // The parked copy is the one command, with its own id and bytes, not the batch.
      const [copy] = await parked(1);
      expect(nameOf(copy!.properties.messageId)).toBe('poison');
      expect(JSON.parse(copy!.content.toString('utf8'))).toMatchObject({ task_id: idOf('poison') });
      // The batch message was acked once, after every command was settled.
      const batchAck = await waitFor(() => acks.find((a) => a.taskId === undefined));
      expect(batchAck.acked).toBe(true);
      expect(acks.filter((a) => a.taskId === undefined)).toHaveLength(1);
      // (flaky's second attempt came as a message of its own, through the delay levels)
      const lastConfirm = Math.max(
        ...publisher.confirmed
          .filter((c) => c.events.some((e) => e.attempt === 1))
          .map((c) => c.at),
      );
      expect(batchAck.at).toBeGreaterThanOrEqual(lastConfirm);
      expect(
        calls
          .filter((c) => c.taskId !== 'flaky')
          .map((c) => c.taskId)
          .sort(),
      ).toEqual(['a', 'b', 'c']);
      await worker!.close();
      expect(await ns.depth(queue)).toBe(0);
    });

    it('hands a redelivered batch back one command at a time, so each runs once', async () => {
      await submitTogether(['r1', 'r2', 'r3']);
      expect(publisher.commandTypes).toEqual(['task.command.batch']);
      // A consumer that dies holding it: the broker redelivers the batch, flagged redelivered.
      const dying = await raw.createChannel();
      await ns.waitForDepth(queue, 1);
      const held = await dying.get(queue, { noAck: false });
      expect(held && held.properties.type).toBe('task.command.batch');
      await dying.close();

      await startWorker(() => ({ status: 'sent' }), { concurrency: 4, prefetch: 4 });
      for (const id of ['r1', 'r2', 'r3']) await waitForEvent(id, 'SUCCESS');
      // Published again alone (three command messages), then each delivered and run once.
      expect(publisher.commandTypes).toEqual([
        'task.command.batch',
        EMAIL_SEND,
        EMAIL_SEND,
        EMAIL_SEND,
      ]);
      expect(calls.map((c) => c.taskId).sort()).toEqual(['r1', 'r2', 'r3']);
      // Each counts as delivered before, as a lone redelivered command would (crash loops).
      for (const id of ['r1', 'r2', 'r3']) {
        expect(await ns.redis.get(store.keys.deliveries(idOf(id), 1))).toBe('1');
      }
      await worker!.close();
      expect(await ns.depth(queue)).toBe(0);
    });

    it('publishes the commands a draining worker hands back alone, and none is lost', async () => {
      await startWorker(
        async (_payload, ctx) => {
          await untilAborted(ctx.signal);
          throw new ShutdownError();
        },
        { concurrency: 1, prefetch: 1, drainTimeoutMs: 200 },
      );
      await submitTogether(['d1', 'd2', 'd3']);
      await waitFor(() => calls.length === 1, { message: 'the first command running' });
      await worker!.close();
      // The running one and the two waiting ones, each back in the queue as its own message.
      await ns.waitForDepth(queue, 3, 'three commands back in the queue');
      const back = await ns.drain(queue);
      expect(back.map((m) => m.properties.type)).toEqual([EMAIL_SEND, EMAIL_SEND, EMAIL_SEND]);
      expect(back.map((m) => String(nameOf(m.properties.messageId))).sort()).toEqual([
        'd1',
        'd2',
        'd3',
      ]);
      // Marked as seen before: a workflow step's run claim must not skip it as a duplicate.
      expect(back.map((m) => m.properties.headers?.['x-handed-back'])).toEqual([true, true, true]);
    });
  });
});

/** Asserts floor <= value <= ceiling, naming what was measured. */
function expectWithin(what: string, value: number, floor: number, ceiling: number): void {
  expect({ [what]: value }).toEqual({ [what]: expect.any(Number) });
  if (value < floor || value > ceiling) {
    throw new Error(`${what} was ${value.toFixed(1)}, expected within [${floor}, ${ceiling}]`);
  }
}

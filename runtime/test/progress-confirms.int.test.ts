/**
 * ctx.progress() against a broker whose confirms do not come: a private RabbitMQ node
 * (PrivateRabbit of @tasks/runtime/testing) with its memory alarm raised, which blocks the worker's
 * publishing connection while its consuming connection (and so the ack) stays free.
 *
 * progress() must return at once, step after step, instead of waiting a broker round trip per
 * step; the command's ack must still wait until every event of the task is confirmed, and once
 * the alarm clears the events arrive in order with the latest progress.
 *
 * Needs `rabbitmq-server` on this machine (a throw-away node on free ports) and Redis at
 * REDIS_URL (default redis://127.0.0.1:6379).
 */
import { randomUUID } from 'node:crypto';
import { EMAIL_SEND, EmailSendPayload } from '@tasks/contracts';
import { CommandPublisher, createLogger, defineTask, type Worker } from '@tasks/runtime';
import {
  commandEnvelope,
  EventTap,
  PrivateRabbit,
  TestConnections,
  TestNamespace,
  testWorker,
  waitFor,
} from '@tasks/runtime/testing';

const log = createLogger({ service: 'test', level: 'silent' });
const SERVICE = 'email-worker';
const DELAY = { unitMs: 20, levels: 12 };
const STEPS = 10;
/** Far above anything a queued publish costs, far below a broker round trip under an alarm. */
const RETURNS_AT_ONCE_MS = 2_000;

describe('progress without a broker round trip per step', () => {
  let rabbit: PrivateRabbit;
  let ns: TestNamespace;
  let tap: EventTap;
  let connections: TestConnections;
  let worker: Worker | undefined;

  beforeAll(async () => {
    rabbit = await PrivateRabbit.start();
  }, 180_000);

  afterAll(async () => {
    await rabbit.stop();
  }, 60_000);

  beforeEach(async () => {
    ns = await new TestNamespace({
      amqpUrl: rabbit.amqpUrl,
      delayUnitMs: DELAY.unitMs,
      delayLevels: DELAY.levels,
    }).setup();
    tap = await EventTap.start(ns);
    // A confirm held back by the alarm must not time out during the test.
    connections = await TestConnections.open(ns, {
      name: 'progress-test',
      publishTimeoutMs: 120_000,
      log,
    });
  }, 60_000);

  afterEach(async () => {
    await rabbit.setMemoryAlarm(false);
    await worker?.close();
    worker = undefined;
    await connections.close();
    await tap.close();
    await ns.destroy();
  }, 60_000);

  it('returns from every progress() at once while the ack waits for the confirms', async () => {
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let reachedGate = false;
    const returnedAfterMs: number[] = [];
    let handlerDone = false;
    const task = defineTask({
      routingKey: EMAIL_SEND,
      payload: EmailSendPayload,
      handler: async (_payload: EmailSendPayload, ctx) => {
        reachedGate = true;
        await gate;
        for (let step = 1; step <= STEPS; step += 1) {
          const before = performance.now();
          await ctx.progress(step, STEPS, `step ${step}`);
          returnedAfterMs.push(performance.now() - before);
        }
        handlerDone = true;
        return { steps: STEPS };
      },
    });
    worker = testWorker(
      ns,
      connections,
      {
        service: SERVICE,
        name: 'progress-test-worker',
        tasks: [task],
        concurrency: 1,
        prefetch: 1,
        drainTimeoutMs: 5_000,
      },
      { delay: DELAY, log },
    );
    await worker.start();
    const taskId = randomUUID();
    await new CommandPublisher(connections.publisher, ns.names, DELAY).publish(
      commandEnvelope(taskId, EMAIL_SEND, {
        email: 'someone@example.test',
        subject: 'hi',
        body: 'hello',
      }),
      { attempt: 1 },
    );
    await waitFor(() => reachedGate, { timeoutMs: 20_000, message: 'handler started' });
    await waitFor(() => tap.of(taskId, 'STARTED').length > 0, {
      timeoutMs: 20_000,
      message: 'STARTED confirmed before the alarm',
    });

    await rabbit.setMemoryAlarm(true);
    openGate();
    await waitFor(() => handlerDone, {
      timeoutMs: RETURNS_AT_ONCE_MS,
      message: `${STEPS} progress() calls return while the broker confirms nothing (returned: ${returnedAfterMs.length})`,
    });
    expect(returnedAfterMs).toHaveLength(STEPS);

    // The handler is done, its events are not confirmed: the command stays unacked.
    const queue = ns.names.workQueue(SERVICE);
    expect(await rabbit.queueCounts(queue)).toEqual({ ready: 0, unacked: 1 });
    expect(tap.of(taskId).map((e) => e.state)).toEqual(['STARTED']);

    await rabbit.setMemoryAlarm(false);
    await waitFor(
      async () => {
        const counts = await rabbit.queueCounts(queue);
        return counts?.ready === 0 && counts.unacked === 0;
      },
      { timeoutMs: 30_000, intervalMs: 250, message: 'command acked after the alarm cleared' },
    );
    await waitFor(() => tap.of(taskId, 'SUCCESS').length > 0, {
      timeoutMs: 10_000,
      message: 'SUCCESS published',
    });
    const published = tap.of(taskId);
    const seqs = published.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(published.at(-1)?.state).toBe('SUCCESS');
    const progress = published.filter((e) => e.state === 'PROGRESS');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)?.progress).toEqual({
      current: STEPS,
      total: STEPS,
      status: `step ${STEPS}`,
    });
  }, 120_000);
});

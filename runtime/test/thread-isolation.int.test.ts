/**
 * Thread-isolated handlers in the worker loop, against the real broker and Redis: a CPU-bound
 * handler in a thread keeps the worker's AMQP heartbeats flowing (the connections use a 1 s
 * heartbeat, so a blocked event loop loses them within seconds and the broker redelivers); a
 * hard time limit terminates the thread; a revoke with terminate ends the run at once.
 *
 * The handler (fixtures/thread-handler.ts, behaviour `busy`) appends its task id to a runs file
 * when it starts and writes a marker file when its computation ends: the number of runs and
 * whether a stopped run ever finished are read from the files.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CommandEnvelope, DATA_PROCESS, type StateEvent } from '@tasks/contracts';
import {
  CommandPublisher,
  closeIdleThreads,
  createLogger,
  defineTask,
  type RetryPolicyConfig,
  type TaskHandler,
  TaskRevoker,
  type TaskStore,
  threadCounts,
  type Worker,
} from '@tasks/runtime';
import {
  commandEnvelope,
  EventTap,
  TaskNames,
  TestConnections,
  TestNamespace,
  testTaskStore,
  testWorker,
  waitFor,
} from '@tasks/runtime/testing';
import { z } from 'zod';
import fixture, { type FixtureOptions } from './fixtures/thread-handler';

const log = createLogger({ service: 'test', level: 'silent' });
const DELAY = { unitMs: 20, levels: 12 };
const SERVICE = 'processing-worker';
const MODULE = join(__dirname, 'fixtures/thread-handler.ts');
const HEARTBEAT_S = 1;

/** No handler thread is left, busy or idle. */
const noThreads = (): boolean => threadCounts().busy + threadCounts().idle === 0;

/** The tests name their tasks; commands carry UUIDs. */
const { idOf, nameOf } = new TaskNames();

describe('thread-isolated handlers in the worker', () => {
  let ns: TestNamespace;
  let tap: EventTap;
  let connections: TestConnections;
  let store: TaskStore;
  let commands: CommandPublisher;
  let worker: Worker | undefined;
  let disconnects: number;
  let dir: string;
  let runsFile: string;
  let markerFile: string;

  beforeEach(async () => {
    ns = await new TestNamespace({ delayUnitMs: DELAY.unitMs, delayLevels: DELAY.levels }).setup();
    disconnects = 0;
    dir = mkdtempSync(join(tmpdir(), 'thread-isolation-'));
    runsFile = join(dir, 'runs');
    markerFile = join(dir, 'marker');
    tap = await EventTap.start(ns);
    connections = await TestConnections.open(ns, {
      name: 'test-thread-worker',
      heartbeatS: HEARTBEAT_S,
    });
    for (const connection of [connections.consume, connections.publish]) {
      connection.manager.on('disconnect', () => (disconnects += 1));
    }
    store = testTaskStore(ns);
    commands = new CommandPublisher(connections.publisher, ns.names, DELAY);
  });

  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await closeIdleThreads();
    await waitFor(noThreads, { message: 'every handler thread exited' });
    await connections.close();
    await tap.close();
    await ns.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  interface StartOptions {
    readonly timeLimitMs?: number;
    readonly retry?: Partial<RetryPolicyConfig>;
  }

  /** A worker whose one task type runs the fixture handler in a thread. */
  async function startWorker(handler: FixtureOptions, options: StartOptions = {}): Promise<Worker> {
    const task = defineTask({
      routingKey: DATA_PROCESS,
      payload: z.looseObject({}),
      // The same handler in-process (what runs without thread isolation).
      handler: fixture.create(handler, {
        lookup: () => Promise.resolve(new Map()),
      }) as unknown as TaskHandler<object, unknown>,
      isolation: 'thread',
      thread: { module: MODULE, options: handler },
      timeLimitMs: options.timeLimitMs,
    });
    worker = testWorker(
      ns,
      connections,
      {
        service: SERVICE,
        name: 'test-thread-worker',
        tasks: [task],
        retry: { maxRetries: 0, ...options.retry },
      },
      { store, delay: DELAY, log },
    );
    await worker.start();
    return worker;
  }

  const command = (taskId: string): CommandEnvelope =>
    commandEnvelope(idOf(taskId), DATA_PROCESS, { data: {} });

  /** Submits a command and records it PENDING, as the gateway would. */
  async function submit(taskId: string): Promise<void> {
    await store.apply({
      v: 1,
      task_id: idOf(taskId),
      type: DATA_PROCESS,
      state: 'PENDING',
      attempt: 1,
      seq: 0,
      at: new Date().toISOString(),
      worker: 'test',
    });
    await commands.publish(command(taskId), { attempt: 1 });
  }

  const statesOf = (taskId: string): string[] =>
    tap.of(idOf(taskId)).map((e) => `${e.state}:${e.attempt}`);
  const waitForState = (taskId: string, state: string, timeoutMs: number): Promise<StateEvent> =>
    waitFor(() => tap.of(idOf(taskId)).find((e) => e.state === state), {
      timeoutMs,
      message: `${state} of ${taskId} (seen: ${statesOf(taskId).join(', ') || 'none'})`,
    });
  const runs = (): string[] =>
    existsSync(runsFile)
      ? readFileSync(runsFile, 'utf8').split('\n').filter(Boolean).map(nameOf)
      : [];
  /** Waits `ms` of wall time (to show something does NOT happen in it). */
  const elapse = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  it('runs a 30 s CPU-bound handler once, keeping the heartbeats, and ends SUCCESS', async () => {
    await startWorker({ behaviour: 'busy', busyMs: 30_000, runsFile, markerFile });
    await submit('cpu-1');

    const success = await waitForState('cpu-1', 'SUCCESS', 90_000);

    expect(success.result).toEqual({ computed: true });
    expect(runs()).toEqual(['cpu-1']);
    expect(disconnects).toBe(0);
    expect(statesOf('cpu-1')).toEqual(['STARTED:1', 'SUCCESS:1']);
    // Nothing left to redeliver: the one delivery was acked.
    await ns.waitForDepth(ns.names.workQueue(SERVICE), 0);
  }, 150_000);

  it('terminates the thread at the hard time limit: the computation stops, the attempt fails', async () => {
    await startWorker(
      { behaviour: 'busy', busyMs: 8000, runsFile, markerFile },
      { timeLimitMs: 1500 },
    );
    await submit('slow-1');

    const failure = await waitForState('slow-1', 'FAILURE', 20_000);

    expect(failure.error).toBe('task exceeded its time limit of 1500 ms');
    await waitFor(noThreads, { message: 'the thread exited' });
    // Past the time the computation would have ended (8 s after it started): it never did.
    await elapse(9000);
    expect(existsSync(markerFile)).toBe(false);
    expect(runs()).toEqual(['slow-1']);
    expect(disconnects).toBe(0);
  }, 60_000);

  it('retries a timed-out thread attempt when the policy allows, as in-process', async () => {
    await startWorker(
      { behaviour: 'busy', busyMs: 8000, runsFile, markerFile },
      { timeLimitMs: 1000, retry: { maxRetries: 1 } },
    );
    await submit('slow-2');

    await waitForState('slow-2', 'FAILURE', 30_000);

    expect(statesOf('slow-2')).toEqual(['STARTED:1', 'RETRY:1', 'STARTED:2', 'FAILURE:2']);
    expect(runs()).toEqual(['slow-2', 'slow-2']);
  }, 60_000);

  it('terminates a busy thread past the drain time and hands its message back', async () => {
    const running = await startWorker({ behaviour: 'busy', busyMs: 8000, runsFile, markerFile });
    await submit('drain-1');
    await waitFor(() => runs().length === 1, { timeoutMs: 20_000, message: 'started' });

    const closedAt = Date.now();
    await running.close();
    worker = undefined;

    // drainTimeoutMs is 2 s: the thread is terminated then, not when its 8 s are over.
    expect(Date.now() - closedAt).toBeLessThan(6000);
    await waitFor(noThreads, { message: 'the thread exited' });
    await ns.waitForDepth(ns.names.workQueue(SERVICE), 1, 'the message is back in the queue');
    expect(statesOf('drain-1')).toEqual(['STARTED:1']);
    await elapse(7000);
    expect(existsSync(markerFile)).toBe(false);
  }, 60_000);

  describe('revoking a running thread task', () => {
    const revoker = (): TaskRevoker =>
      new TaskRevoker({
        store,
        publisher: connections.publisher,
        names: ns.names,
        revokeTtlS: 600,
        producer: 'test',
        log,
      });

    it('terminates the thread with terminate: REVOKED within seconds, the thread gone', async () => {
      await startWorker({ behaviour: 'busy', busyMs: 8000, runsFile, markerFile });
      await submit('term-1');
      await waitForState('term-1', 'STARTED', 20_000);
      await waitFor(() => runs().length === 1, { message: 'the handler started' });

      const revokedAt = Date.now();
      const outcome = await revoker().revokeOne(idOf('term-1'), {
        reason: 'Task was revoked',
        terminate: true,
      });

      expect(outcome.kind).toBe('revoked');
      await waitForState('term-1', 'REVOKED', 5000);
      await waitFor(noThreads, { timeoutMs: 5000, message: 'thread gone' });
      expect(Date.now() - revokedAt).toBeLessThan(5000);
      expect(worker!.snapshot().active).toEqual([]);
      expect((await store.get(idOf('term-1')))?.state).toBe('REVOKED');
      await elapse(9000);
      expect(existsSync(markerFile)).toBe(false);
    }, 60_000);

    it('asks the handler to stop without terminate: it ends REVOKED through its signal', async () => {
      await startWorker({ behaviour: 'wait-for-abort' });
      await submit('coop-1');
      await waitForState('coop-1', 'STARTED', 20_000);
      await waitFor(() => threadCounts().busy === 1, { message: 'the handler thread runs' });

      await revoker().revokeOne(idOf('coop-1'), { reason: 'Task was revoked' });

      await waitForState('coop-1', 'REVOKED', 5000);
      await waitFor(() => threadCounts().busy === 0, { message: 'the run ended' });
      expect(statesOf('coop-1')).toEqual(['STARTED:1', 'REVOKED:1']);
    }, 60_000);

    it('leaves a busy thread running without terminate (cooperative: it is only asked)', async () => {
      await startWorker({ behaviour: 'busy', busyMs: 3000, runsFile, markerFile });
      await submit('coop-2');
      await waitFor(() => runs().length === 1, { timeoutMs: 20_000, message: 'started' });

      await revoker().revokeOne(idOf('coop-2'), { reason: 'Task was revoked' });

      await waitFor(() => existsSync(markerFile), { timeoutMs: 20_000, message: 'finished' });
      expect((await store.get(idOf('coop-2')))?.state).toBe('REVOKED');
    }, 60_000);
  });
});

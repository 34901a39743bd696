/**
 * A worker applying its service's control state (run-worker.ts, worker-control-store.ts) against
 * the real broker and Redis: the state read at start, pause and resume and concurrency changes
 * broadcast on the control exchange, and a drain request for this replica only.
 */
import {
  type ControlMessage,
  DEFAULT_SERVICE_CONTROL,
  EMAIL_SEND,
  EmailSendPayload,
} from '@tasks/contracts';
import { CommandPublisher, defineTask, type Worker, WorkerControlStore } from '@tasks/runtime';
import {
  commandEnvelope,
  EventTap,
  TaskNames,
  TestConnections,
  TestNamespace,
  testWorker,
  waitFor,
} from '@tasks/runtime/testing';

const SERVICE = 'email-worker';
const PAYLOAD: EmailSendPayload = { email: 'someone@example.test', subject: 'hi', body: 'hello' };
/** The tests name their tasks; commands carry UUIDs. */
const names = new TaskNames();

// Each test starts a worker on the broker and waits for it: more than jest's 5 s when the
// machine is busy (npm test runs two files at a time).
jest.setTimeout(30_000);

describe('worker control', () => {
  let ns: TestNamespace;
  let tap: EventTap;
  let connections: TestConnections;
  let control: WorkerControlStore;
  let commands: CommandPublisher;
  let worker: Worker | undefined;
  let running: number;
  let mostAtOnce: number;
  let started: string[];
  /** Releases the handlers waiting in `hold`. */
  let releases: (() => void)[];
  let holding: boolean;

  beforeEach(async () => {
    ns = await new TestNamespace({ delayUnitMs: 20, delayLevels: 12 }).setup();
    tap = await EventTap.start(ns);
    connections = await TestConnections.open(ns, { name: 'control-test' });
    control = new WorkerControlStore(ns.redis, ns.redisPrefix);
    commands = new CommandPublisher(connections.publisher, ns.names, { unitMs: 20, levels: 12 });
    running = 0;
    mostAtOnce = 0;
    started = [];
    releases = [];
    holding = false;
  });

  afterEach(async () => {
    holding = false;
    for (const release of releases) release();
    await worker?.close();
    worker = undefined;
    await connections.close();
    await tap.close();
    await ns.destroy();
  });

  async function startWorker(
    options: { concurrency?: number; onDrainRequested?: () => void } = {},
  ): Promise<Worker> {
    const task = defineTask({
      routingKey: EMAIL_SEND,
      payload: EmailSendPayload,
      handler: async (_payload, ctx) => {
        started.push(names.nameOf(ctx.taskId));
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        try {
          if (holding) await new Promise<void>((resolve) => releases.push(resolve));
          else await new Promise((resolve) => setTimeout(resolve, 100));
          return { status: 'sent' };
        } finally {
          running -= 1;
        }
      },
    });
    worker = testWorker(ns, connections, {
      service: SERVICE,
      tasks: [task],
      concurrency: options.concurrency ?? 4,
      prefetch: options.concurrency ?? 4,
      onDrainRequested: options.onDrainRequested,
    });
    await worker.start();
    return worker;
  }

  const submit = async (taskId: string): Promise<void> => {
    await commands.publish(commandEnvelope(names.idOf(taskId), EMAIL_SEND, PAYLOAD), {
      attempt: 1,
    });
  };

  const broadcast = (message: ControlMessage): Promise<void> =>
    ns.publish(ns.names.controlExchange, '', JSON.stringify(message));

  const serviceControl = (paused: boolean, concurrency: number | null = null): ControlMessage => ({
    kind: 'service-control',
    service: SERVICE,
    paused,
    concurrency,
    at: new Date().toISOString(),
  });

  const succeeded = (taskId: string): Promise<unknown> =>
    waitFor(() => tap.of(names.idOf(taskId), 'SUCCESS')[0], { message: `${taskId} SUCCESS` });

  const queue = (): string => ns.names.workQueue(SERVICE);

  it('starts paused when its service is paused in Redis, and runs the queued task on resume', async () => {
    await control.write(SERVICE, { ...DEFAULT_SERVICE_CONTROL, paused: true });
    const w = await startWorker();
    expect(w.snapshot()).toMatchObject({ paused: true });
    await submit('t-queued');
    await ns.waitForDepth(queue(), 1, 'command queued');
    // The worker saw it long enough to have taken it, were it consuming.
    await broadcast(serviceControl(true, 3));
    await waitFor(() => w.snapshot().concurrency === 3, { message: 'concurrency 3 applied' });
    expect(started).toEqual([]);
    expect(await ns.depth(queue())).toBe(1);

    await broadcast(serviceControl(false));
    await succeeded('t-queued');
    expect(w.snapshot()).toMatchObject({ paused: false, concurrency: 4 });
  });

  it('lets a running task finish when paused, and takes nothing new until resumed', async () => {
    holding = true;
    const w = await startWorker();
    await submit('t-running');
    await waitFor(() => started.includes('t-running'), { message: 't-running started' });

    await broadcast(serviceControl(true));
    await waitFor(() => w.snapshot().paused, { message: 'paused' });
    await submit('t-later');
    await ns.waitForDepth(queue(), 1, 't-later queued');

    holding = false;
    for (const release of releases) release();
    await succeeded('t-running');
    // One more control round trip: had the consumer been live, t-later would have been taken.
    await broadcast(serviceControl(true, 2));
    await waitFor(() => w.snapshot().concurrency === 2, { message: 'concurrency 2 applied' });
    expect(started).toEqual(['t-running']);
    expect(await ns.depth(queue())).toBe(1);

    await broadcast(serviceControl(false, 2));
    await succeeded('t-later');
  });

  it('runs one task at a time after a concurrency change to 1, and ignores other services', async () => {
    const w = await startWorker({ concurrency: 4 });
    await broadcast({ ...serviceControl(true, 2), service: 'processing-worker' });
    await broadcast(serviceControl(false, 1));
    await waitFor(() => w.snapshot().concurrency === 1, { message: 'concurrency 1 applied' });
    expect(w.snapshot().paused).toBe(false);

    const ids = ['c1', 'c2', 'c3'];
    for (const id of ids) await submit(id);
    await Promise.all(ids.map(succeeded));
    expect(mostAtOnce).toBe(1);
  });

  it('moves the prefetch with the concurrency: the broker keeps what the replica cannot run', async () => {
    holding = true;
    const w = await startWorker({ concurrency: 4 });
    await broadcast(serviceControl(false, 1));
    await waitFor(() => w.snapshot().concurrency === 1, { message: 'concurrency 1 applied' });
    for (const id of ['p1', 'p2', 'p3']) await submit(id);
    await waitFor(() => started.length === 1, { message: 'one task started' });
    await ns.waitForDepth(queue(), 2, 'two left queued');
    expect(w.snapshot().reserved).toEqual([]);

    holding = false;
    for (const release of releases) release();
    await Promise.all(['p1', 'p2', 'p3'].map(succeeded));
  });

  it('asks to drain only when the drain names this replica', async () => {
    const requests: string[] = [];
    await startWorker({ onDrainRequested: () => requests.push('drain') });
    await broadcast({ kind: 'drain', worker: 'someone-else', at: new Date().toISOString() });
    await broadcast({ kind: 'drain', worker: `test-${SERVICE}`, at: new Date().toISOString() });
    await waitFor(() => requests.length > 0, { message: 'drain requested' });
    expect(requests).toEqual(['drain']);
  });

  it('closes itself on a drain when nobody else handles it', async () => {
    const w = await startWorker();
    await broadcast({ kind: 'drain', worker: `test-${SERVICE}`, at: new Date().toISOString() });
    await waitFor(() => w.lifecycle === 'stopped', { message: 'worker stopped' });
  });
});

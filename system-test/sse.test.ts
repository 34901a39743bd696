/**
 * `GET /tasks/{id}/events` against the real services: a client follows a task from its current
 * state through every change to the end of the stream, without polling.
 */
import { randomUUID } from 'node:crypto';
import { stateEvent, testTaskStore } from '@tasks/runtime/testing';
import { gatewayConnected } from './support/probes';
import { SseStream } from './support/sse-client';
import { TestPlatform } from './support/test-platform';

interface StatusData {
  readonly task_id: string;
  readonly status: string;
  readonly result: { current?: number; total?: number; status?: string } | null;
}

/** `promise`, or a failure naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('task event streams', () => {
  let platform: TestPlatform;
  const streams: SseStream[] = [];
  const open = (taskId: string, headers?: Record<string, string>): SseStream => {
    const stream = new SseStream(`${platform.baseUrl}/tasks/${taskId}/events`, headers);
    streams.push(stream);
    return stream;
  };

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'processing-worker'],
      env: { PROCESS_STEPS: '5', PROCESS_STEP_MS: '100', SSE_HEARTBEAT_MS: '1000' },
    });
    await gatewayConnected(platform);
  }, 60_000);

  afterEach(async () => {
    await Promise.all(streams.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  it('streams every progress step of a running task in order, then SUCCESS, then ends', async () => {
    // A second's countdown: the stream opens while the task still waits, so it sees every step.
    const id = await platform.submit('process', { data: { records: 5 }, countdown: 1 });
    const stream = open(id);
    await within(stream.ended, 15_000, 'the stream ends');

    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    const statuses = stream.data<StatusData>('status');
    expect(statuses.every((s) => s.task_id === id)).toBe(true);
    expect(statuses.map((s) => s.status)).toEqual([
      'PENDING',
      'STARTED',
      ...Array<string>(5).fill('PROGRESS'),
      'SUCCESS',
    ]);
    expect(statuses.filter((s) => s.status === 'PROGRESS').map((s) => s.result)).toEqual(
      [1, 2, 3, 4, 5].map((current) => ({
        current,
        total: 5,
        status: `Processing step ${current}/5`,
      })),
    );
    expect(statuses.at(-1)?.result).toMatchObject({ status: 'completed', records_processed: 5 });
    expect(stream.events.at(-1)).toMatchObject({ event: 'end' });
    expect(JSON.parse(stream.events.at(-1)!.data)).toEqual({ status: 'SUCCESS' });
    // Keep-alive comments flowed while the task waited for its countdown.
    expect(stream.comments).toBeGreaterThan(0);
  }, 30_000);

  it("sends a finished task's state and closes the stream at once", async () => {
    const id = await platform.submit('process', { data: { records: 1 } });
    await platform.waitForTask(id, 'SUCCESS');
    const stream = open(id);
    await within(stream.ended, 5_000, 'the stream of a finished task ends');

    expect(stream.status).toBe(200);
    expect(stream.events.map((e) => e.event)).toEqual(['status', 'end']);
    expect(stream.data<StatusData>('status')[0]).toMatchObject({ task_id: id, status: 'SUCCESS' });

    // An EventSource reconnecting with the terminal state's id is told to stop (204).
    const again = open(id, { 'Last-Event-ID': stream.events[0]!.id! });
    await within(again.ended, 5_000, 'the reconnect is answered');
    expect(again.status).toBe(204);
    expect(again.events).toEqual([]);
  }, 30_000);

  it('ends the stream with REVOKED when a waiting task is cancelled', async () => {
    const id = await platform.submit('process', { data: { records: 1 }, countdown: 30 });
    const stream = open(id);
    await stream.opened;
    expect((await platform.request('DELETE', `/tasks/${id}`)).status).toBe(200);
    await within(stream.ended, 5_000, 'the stream of a cancelled task ends');
    expect(stream.data<StatusData>('status').map((s) => s.status)).toEqual(['PENDING', 'REVOKED']);
    expect(stream.events.at(-1)?.event).toBe('end');
  }, 30_000);

  it('ends the stream when the store moves on without the event reaching this gateway', async () => {
    // The race it covers: a task's last event reaches the gateway's listener queue before the
    // stream subscribes (or while that queue is being re-declared after a cut), and Redis has
    // not applied it yet when the stream reads the record. The stream must still end.
    const id = await platform.submit('process', { data: { records: 1 }, countdown: 30 });
    const stream = open(id);
    await stream.opened;
    const store = testTaskStore(platform.ns);
    // Written straight to Redis, as the status-store would: no event on the broker.
    expect(await store.apply(stateEvent(id, 'STARTED', 1, 0))).toBe(true);
    expect(
      await store.apply(stateEvent(id, 'SUCCESS', 1, 1, { result: { status: 'completed' } })),
    ).toBe(true);
    await within(stream.ended, 5_000, 'the stream of a task that ended unheard ends');
    expect(stream.data<StatusData>('status').at(-1)).toMatchObject({ status: 'SUCCESS' });
    expect(stream.events.at(-1)?.event).toBe('end');
  }, 30_000);

  it('ends with a terminal state only once GET /tasks/{id} shows it too', async () => {
    // The worker's SUCCESS reaches the gateway straight from the broker; the status-store,
    // frozen here, has not written it. A client that reads the task after `end` must find it.
    const id = await platform.submit('process', { data: { records: 1 }, countdown: 1 });
    const stream = open(id);
    await stream.opened;
    const statusStore = platform.processes.find((p) => p.name === 'status-store')!;
    statusStore.child.kill('SIGSTOP');
    try {
      // Long enough for the five 100 ms steps after the second's countdown, and more.
      const ended = await within(stream.ended, 4_000, 'ended').then(
        () => true,
        () => false,
      );
      expect(ended).toBe(false);
      expect(stream.data<StatusData>('status').map((s) => s.status)).not.toContain('SUCCESS');
      expect((await platform.task(id)).status).not.toBe('SUCCESS');
    } finally {
      statusStore.child.kill('SIGCONT');
    }
    await within(stream.ended, 10_000, 'the stream ends once the store has SUCCESS');
    expect(stream.data<StatusData>('status').at(-1)).toMatchObject({ status: 'SUCCESS' });
    expect(stream.events.at(-1)?.event).toBe('end');
    expect((await platform.task(id)).status).toBe('SUCCESS');
  }, 30_000);

  it('answers 404 for an unknown task id', async () => {
    const stream = open(randomUUID());
    await within(stream.ended, 5_000, 'the 404 arrives');
    expect(stream.status).toBe(404);
  });

  // Last: it stops the gateway.
  it('ends open streams when the gateway stops, and the gateway exits cleanly', async () => {
    const id = await platform.submit('process', { data: { records: 1 }, countdown: 30 });
    const stream = open(id);
    await stream.opened;
    const [gateway] = platform.running('gateway');
    const exit = await within(gateway!.stop('SIGTERM'), 10_000, 'the gateway stops');
    expect(exit).toEqual({ code: 0, signal: null });
    await within(stream.ended, 1_000, 'the stream ends with the gateway');
    expect(stream.data<StatusData>('status').map((s) => s.status)).toEqual(['PENDING']);
  }, 30_000);
});

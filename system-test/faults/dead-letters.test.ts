/**
 * Poison messages and a task that keeps killing its worker.
 * Both are parked in `processing-worker.dead` and listed by GET /dead-letters with their reason;
 * their tasks read FAILURE with a clear error; the worker keeps serving normal tasks. A parked
 * task is replayed as a new attempt once the fault is gone, and a dead letter can be dropped.
 *
 * Shared broker and Redis, own namespace. The tests run in order and share the parked ids.
 */
import { randomUUID } from 'node:crypto';
import { DATA_PROCESS } from '@tasks/contracts';
import { waitFor } from '@tasks/runtime/testing';
import { report } from '../support/fault-checks';
import type { ServiceProcess } from '../support/service-process';
import { TestPlatform } from '../support/test-platform';

const MAX_DELIVERIES = 2;
const CRASH_ENV = { PROCESS_CRASH_MARKER: 'crash', MAX_DELIVERIES: String(MAX_DELIVERIES) };

interface DeadLetterView {
  readonly task_id: string;
  readonly service: string;
  readonly type: string | null;
  readonly reason: string;
  readonly attempt: number;
}

describe('dead letters: poison messages and crash loops', () => {
  let platform: TestPlatform;
  const invalidJsonId = `poison-json-${randomUUID()}`;
  const invalidSchemaId = randomUUID();
  let crashId = '';

  beforeAll(async () => {
    platform = await TestPlatform.start({ services: ['status-store', 'gateway'] });
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  const deadLetters = async (): Promise<DeadLetterView[]> => {
    const { status, body } = await platform.request('GET', '/dead-letters');
    expect(status).toBe(200);
    return (body as { dead_letters: DeadLetterView[] }).dead_letters;
  };
  const deadLetter = async (id: string): Promise<DeadLetterView | undefined> =>
    (await deadLetters()).find((d) => d.task_id === id);
  const deadQueueDepth = (): Promise<number> =>
    platform.ns.depth(platform.ns.names.deadQueue('processing-worker'));
  const submitNormal = (n: number, label: string): Promise<string[]> =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        platform.submit('process', { data: { records: i + 1 }, description: `${label} ${i}` }),
      ),
    );
  const allSucceed = (ids: readonly string[]): Promise<unknown> =>
    Promise.all(ids.map((id) => platform.waitForTask(id, 'SUCCESS', 30_000)));

  it('parks an unparseable and a schema-invalid command with their reasons and fails their tasks', async () => {
    // One handler at a time, so a crash loop later holds nothing else in flight.
    const worker = await platform.startService('processing-worker', {
      ...CRASH_ENV,
      CONCURRENCY: '1',
    });
    const before = await submitNormal(3, 'before poison');
    const { tasksExchange } = platform.ns.names;
    await platform.ns.publish(tasksExchange, DATA_PROCESS, '{"task_id": "unterminated', {
      messageId: invalidJsonId,
      type: DATA_PROCESS,
      contentType: 'application/json',
    });
    await platform.ns.publish(
      tasksExchange,
      DATA_PROCESS,
      JSON.stringify({
        v: 1,
        task_id: invalidSchemaId,
        type: DATA_PROCESS,
        payload: { data: 'not an object' },
        priority: 0,
        created_at: new Date().toISOString(),
      }),
      { messageId: invalidSchemaId, type: DATA_PROCESS, contentType: 'application/json' },
    );
    const after = await submitNormal(3, 'after poison');

    await waitFor(
      async () => (await deadLetter(invalidJsonId)) && (await deadLetter(invalidSchemaId)),
      { timeoutMs: 15_000, intervalMs: 100, message: 'both poison messages listed' },
    );
    expect(await deadLetter(invalidJsonId)).toMatchObject({
      service: 'processing-worker',
      reason: expect.stringMatching(/^unparseable JSON/),
    });
    expect(await deadLetter(invalidSchemaId)).toMatchObject({
      service: 'processing-worker',
      type: DATA_PROCESS,
      reason: expect.stringMatching(/^invalid payload: data/),
    });
    expect(await deadQueueDepth()).toBe(2);

    const json = await platform.waitForTask(invalidJsonId, 'FAILURE');
    expect(json.error).toMatch(/unparseable JSON/);
    const schema = await platform.waitForTask(invalidSchemaId, 'FAILURE');
    expect(schema.error).toMatch(/invalid payload: data/);

    // Poison never stops the worker: normal tasks before and after it succeed on the same process.
    await allSucceed([...before, ...after]);
    expect(worker.running).toBe(true);
    expect(platform.running('processing-worker')).toEqual([worker]);
  }, 60_000);

  it('parks a task that kills its worker after MAX_DELIVERIES redeliveries and keeps serving others', async () => {
    let current: ServiceProcess | undefined = platform.running('processing-worker')[0];
    expect(current).toBeDefined();
    crashId = await platform.submit('process', { data: { records: 1 }, description: 'crash' });
    const others = await submitNormal(3, 'behind the crash loop');

    // Restart the worker each time it dies, as a supervisor would; the loop must end by itself.
    const restarts: number[] = [];
    for (;;) {
      const watched = current;
      const outcome = await waitFor(
        async () =>
          (await deadLetter(crashId)) ? 'parked' : watched?.running ? undefined : 'died',
        { timeoutMs: 20_000, intervalMs: 50, message: 'the worker dies or the task is parked' },
      );
      if (outcome === 'parked') break;
      expect(await watched?.exited).toEqual({ code: null, signal: 'SIGKILL' });
      restarts.push(Date.now());
      expect(restarts.length).toBeLessThanOrEqual(MAX_DELIVERIES + 2);
      current = await platform.startService(
        'processing-worker',
        { ...CRASH_ENV, CONCURRENCY: '1' },
        { waitReady: false },
      );
    }

    // Delivery 1 (fresh) and 2 (first redelivery) run as usual and are not charged; from the
    // second redelivery on it runs alone (crash quarantine): MAX crashes are charged to it, the
    // next delivery is parked.
    expect(restarts.length).toBe(MAX_DELIVERIES + 2);
    const parked = await deadLetter(crashId);
    expect(parked).toMatchObject({
      service: 'processing-worker',
      type: DATA_PROCESS,
      attempt: 1,
      reason: `killed its worker ${MAX_DELIVERIES} times running alone (crash loop)`,
    });
    const failed = await platform.waitForTask(crashId, 'FAILURE');
    expect(failed.error).toMatch(/killed its worker 2 times running alone/);
    expect(await deadQueueDepth()).toBe(3);

    // Nothing else was lost to the crash loop, and the last worker keeps running.
    await allSucceed(others);
    expect(current?.running).toBe(true);
    report('crash loop', { worker_restarts: restarts.length, parked_after_deliveries: 5 });
  }, 150_000);

  it('replays the parked task as a new attempt that succeeds, and drops another dead letter', async () => {
    await Promise.all(platform.running('processing-worker').map((w) => w.stop('SIGTERM')));
    await platform.startService('processing-worker'); // no crash marker: the fault is fixed

    const parked = await deadLetter(crashId);
    expect(parked).toBeDefined();
    const replay = await platform.request('POST', `/dead-letters/${crashId}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ task_id: crashId, attempt: parked!.attempt + 1 });
    const done = await platform.waitForTask(crashId, 'SUCCESS');
    expect(done).toMatchObject({ attempt: parked!.attempt + 1, error: null });
    expect(await deadLetter(crashId)).toBeUndefined();

    const drop = await platform.request('DELETE', `/dead-letters/${invalidSchemaId}`);
    expect(drop.status).toBe(200);
    expect(await deadLetter(invalidSchemaId)).toBeUndefined();
    expect((await platform.request('DELETE', `/dead-letters/${invalidSchemaId}`)).status).toBe(404);
    expect((await platform.request('POST', `/dead-letters/${invalidSchemaId}/replay`)).status).toBe(
      404,
    );
    // The unparseable one is still listed: nothing else was touched.
    expect(await deadLetter(invalidJsonId)).toBeDefined();
  }, 60_000);
});

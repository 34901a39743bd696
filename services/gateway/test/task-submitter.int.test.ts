/**
 * What a 503 promises: a POST the gateway refused never runs. The submitter over a real Redis
 * and a publisher stub that fails (or confirms) when the test says: a refused task id is revoked
 * (workers skip it) before the error reaches the client, with or without Idempotency-Key, and
 * two concurrent requests with one key never end as a 202 for a revoked id.
 *
 * Needs Redis (TestNamespace); keys live under a fresh prefix.
 */
import {
  type CommandPublisher,
  errorCode,
  PublishTimeoutError,
  TaskEnqueuer,
  TaskStore,
} from '@tasks/runtime';
import { TestNamespace } from '@tasks/runtime/testing';
import { TaskSubmitter } from '../src/task-submitter';
import { TASK_REQUESTS } from '../src/task-requests';

const email = TASK_REQUESTS.find((spec) => spec.apiName === 'email')!;
const body = { email: 'ada@example.com', subject: 'hi', body: 'x' };

/** Each publish waits until the test settles it: `confirm(i)` or `fail(i, err)`. */
class HeldPublisher {
  readonly calls: { taskId: string; settle: (err?: Error) => void }[] = [];

  publish(command: { task_id: string }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.calls.push({
        taskId: command.task_id,
        settle: (err) => (err ? reject(err) : resolve()),
      });
    });
  }
}

describe('TaskSubmitter when the broker refuses', () => {
  let ns: TestNamespace;
  let store: TaskStore;
  let publisher: HeldPublisher;
  let submitter: TaskSubmitter;
  const timeout = (): Error => new PublishTimeoutError('no broker confirm within 10 ms');

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    store = new TaskStore(ns.redis, { prefix: ns.redisPrefix, resultTtlS: 60 });
    publisher = new HeldPublisher();
    submitter = new TaskSubmitter({
      store,
      redis: ns.redis,
      enqueuer: new TaskEnqueuer(store, publisher as unknown as CommandPublisher),
      delay: ns.delay,
      idempotencyTtlS: 600,
    });
  });

  afterEach(async () => {
    await ns.destroy();
  });

  /** Resolves once the submitter's n-th publish is waiting to be settled. */
  const nthCall = async (n: number): Promise<HeldPublisher['calls'][number]> => {
    for (let i = 0; i < 400 && !publisher.calls[n]; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const call = publisher.calls[n];
    if (!call) throw new Error(`publish #${n} never came`);
    return call;
  };

  it('revokes the id of a refused POST without Idempotency-Key before answering', async () => {
    const answer = submitter.submit(email, body).catch((err: unknown) => err);
    const call = await nthCall(0);
    call.settle(timeout());
    expect(errorCode(await answer)).toBe('PUBLISH_TIMEOUT');
    expect(await store.isRevoked(call.taskId)).toBe(true);
    expect(await store.get(call.taskId)).toBeUndefined();
  });

  it('revokes the id of a refused POST with Idempotency-Key and frees the key for a new id', async () => {
    const first = submitter.submit(email, body, 'key-1').catch((err: unknown) => err);
    const refused = await nthCall(0);
    refused.settle(timeout());
    expect(errorCode(await first)).toBe('PUBLISH_TIMEOUT');
    expect(await store.isRevoked(refused.taskId)).toBe(true);
    expect(await store.get(refused.taskId)).toBeUndefined();

    const retry = submitter.submit(email, body, 'key-1');
    const accepted = await nthCall(1);
    accepted.settle();
    const answer = await retry;
    expect(answer.task_id).toBe(accepted.taskId);
    expect(accepted.taskId).not.toBe(refused.taskId);
    expect(await store.isRevoked(accepted.taskId)).toBe(false);
  });

  it('answers the accepted id to both of two same-key requests when the accepted one settles first', async () => {
    const a = submitter.submit(email, body, 'key-2').catch((err: unknown) => err);
    const callA = await nthCall(0);
    const b = submitter.submit(email, body, 'key-2');
    const callB = await nthCall(1);
    expect(callB.taskId).toBe(callA.taskId);

    callB.settle();
    expect((await b).task_id).toBe(callA.taskId);
    callA.settle(timeout());
    expect(await a).toEqual(expect.objectContaining({ task_id: callA.taskId }));
    expect(await store.isRevoked(callA.taskId)).toBe(false);
    expect((await store.get(callA.taskId))?.state).toBe('PENDING'); // the accepted task's record
  });

  it('never answers 202 for an id a failed same-key request revoked first', async () => {
    const a = submitter.submit(email, body, 'key-3').catch((err: unknown) => err);
    const callA = await nthCall(0);
    const b = submitter.submit(email, body, 'key-3').catch((err: unknown) => err);
    const callB = await nthCall(1);

    callA.settle(timeout());
    expect(errorCode(await a)).toBe('PUBLISH_TIMEOUT');
    callB.settle(); // confirmed, but its id is revoked: the worker will skip it
    expect(errorCode(await b)).toBe('BROKER_UNAVAILABLE');
    expect(await store.isRevoked(callB.taskId)).toBe(true);
    expect(await store.get(callB.taskId)).toBeUndefined();
  });
});

/**
 * TaskEnqueuer against the real Redis when the broker does not confirm: the record
 * is removed, and a command that no retry will publish again (no idempotency key, no id of the
 * caller's) is revoked, so a copy the broker did get is skipped instead of run for a caller
 * that was told it failed. The publisher is a stub that fails as the broker would.
 *
 * Needs Redis at REDIS_URL and RabbitMQ (TestNamespace); keys live under a fresh prefix.
 */
import {
  type CommandPublisher,
  errorCode,
  PublishNackedError,
  PublishTimeoutError,
  TaskEnqueuer,
  TaskStore,
} from '@tasks/runtime';
import { TestNamespace } from '@tasks/runtime/testing';

/** A publisher that fails as the broker would, remembering the task id it was asked for. */
const failingPublisher = (err: Error, seen: string[]): CommandPublisher =>
  ({
    publish: (command: { task_id: string }) => {
      seen.push(command.task_id);
      return Promise.reject(err);
    },
  }) as unknown as CommandPublisher;

describe('TaskEnqueuer when the broker does not confirm', () => {
  let ns: TestNamespace;
  let store: TaskStore;

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    store = new TaskStore(ns.redis, { prefix: ns.redisPrefix, resultTtlS: 60 });
  });

  afterEach(async () => {
    await ns.destroy();
  });

  const enqueue = async (
    err: Error,
    reuse: { idempotencyKey?: string; taskId?: string } = {},
  ): Promise<string> => {
    const seen: string[] = [];
    const enqueuer = new TaskEnqueuer(store, failingPublisher(err, seen));
    const request = {
      type: 'task.data.process',
      payload: { data: {} },
      producer: 'test',
      ...reuse,
    };
    await expect(enqueuer.enqueue(request)).rejects.toBe(err);
    expect(seen).toHaveLength(1);
    return seen[0]!;
  };

  it('removes the record and revokes a fresh id after a publish timeout', async () => {
    const id = await enqueue(new PublishTimeoutError('no broker confirm within 10 ms'));
    expect(await store.get(id)).toBeUndefined();
    expect(await store.isRevoked(id)).toBe(true);
    expect(await ns.redis.ttl(store.keys.revoked(id))).toBeGreaterThan(86_400);
  });

  it('revokes a fresh id the broker refused too: a copy sent before a cut may still arrive', async () => {
    const err = new PublishNackedError('broker refused the message: nack');
    expect(errorCode(err)).toBe('PUBLISH_NACKED');
    const id = await enqueue(err);
    expect(await store.get(id)).toBeUndefined();
    expect(await store.isRevoked(id)).toBe(true);
  });

  it('leaves an id with an idempotency key, and its record, to its caller', async () => {
    const id = await enqueue(new PublishTimeoutError('no broker confirm within 10 ms'), {
      idempotencyKey: 'key-1',
    });
    expect((await store.get(id))?.state).toBe('PENDING');
    expect(await store.isRevoked(id)).toBe(false);
  });

  it('does not revoke an id its caller publishes again (a schedule tick retried)', async () => {
    const id = await enqueue(new PublishTimeoutError('no broker confirm within 10 ms'), {
      taskId: 'sched-tick-1',
    });
    expect(id).toBe('sched-tick-1');
    expect(await store.isRevoked(id)).toBe(false);
  });
});

/**
 * TaskEnqueuer against the real Redis when the broker does not confirm (DESIGN §3): the record
 * is removed, and a command whose outcome is unknown (publish timeout) and that no retry will
 * reuse (no idempotency key) is revoked, so a late delivery is skipped instead of run for a
 * caller that was told it failed. The publisher is a stub that fails as the broker would.
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

const failingPublisher = (err: Error): CommandPublisher =>
  ({ publish: () => Promise.reject(err) }) as unknown as CommandPublisher;

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

  const enqueue = async (err: Error, idempotencyKey?: string): Promise<string> => {
    const taskId = `t-${Math.random().toString(36).slice(2)}`;
    const enqueuer = new TaskEnqueuer(store, failingPublisher(err));
    const request = {
      type: 'task.data.process',
      payload: { data: {} },
      taskId,
      producer: 'test',
      ...(idempotencyKey ? { idempotencyKey } : {}),
    };
    await expect(enqueuer.enqueue(request)).rejects.toBe(err);
    return taskId;
  };

  it('removes the record and revokes the id after a publish timeout', async () => {
    const id = await enqueue(new PublishTimeoutError('no broker confirm within 10 ms'));
    expect(await store.get(id)).toBeUndefined();
    expect(await store.isRevoked(id)).toBe(true);
    expect(await ns.redis.ttl(store.keys.revoked(id))).toBeGreaterThan(86_400);
  });

  it('does not revoke an id that a retry with the same idempotency key publishes again', async () => {
    const id = await enqueue(new PublishTimeoutError('no broker confirm within 10 ms'), 'key-1');
    expect(await store.get(id)).toBeUndefined();
    expect(await store.isRevoked(id)).toBe(false);
  });

  it('does not revoke an id the broker refused (nothing can arrive late)', async () => {
    const err = new PublishNackedError('broker refused the message: nack');
    expect(errorCode(err)).toBe('PUBLISH_NACKED');
    const id = await enqueue(err);
    expect(await store.get(id)).toBeUndefined();
    expect(await store.isRevoked(id)).toBe(false);
  });
});

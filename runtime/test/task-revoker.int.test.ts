/**
 * A cancel is one atomic step in Redis: the revocation (which makes a worker skip the command)
 * and REVOKED in the record are written together or not at all. When Redis refuses the cancel's
 * write, neither is left behind: never a revoked command whose record still says PENDING, nor
 * the reverse.
 *
 * A private Redis (the refusal is an ACL user without the script commands, set up there only);
 * the broadcast goes to the shared RabbitMQ under the namespace's prefix.
 */
import { randomUUID } from 'node:crypto';
import { DATA_PROCESS } from '@tasks/contracts';
import { type ConfirmPublisher, createLogger, TaskRevoker, TaskStore } from '@tasks/runtime';
import { PrivateRedis, TestNamespace, TestPublisher } from '@tasks/runtime/testing';
import Redis from 'ioredis';

const log = createLogger({ service: 'test', level: 'silent' });

describe('TaskRevoker', () => {
  let redis: PrivateRedis;
  let ns: TestNamespace;
  let publishing: TestPublisher;
  let publisher: ConfirmPublisher;
  let store: TaskStore;
  const clients: Redis[] = [];

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    ns = await new TestNamespace({ redisUrl: redis.url }).setup();
    publishing = await TestPublisher.open(ns, { name: 'test-revoker' });
    publisher = publishing.publisher;
    store = new TaskStore(ns.redis, { prefix: ns.redisPrefix, resultTtlS: 600 });
  }, 30_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => undefined)));
    await publishing.close();
    await ns.destroy();
    await redis.stop();
  });

  const revokerOn = (taskStore: TaskStore): TaskRevoker =>
    new TaskRevoker({
      store: taskStore,
      publisher,
      names: ns.names,
      revokeTtlS: 600,
      producer: 'test',
      log,
    });

  /** A TaskStore on a connection whose user may run everything but `denied`. */
  const storeWithout = async (denied: readonly string[]): Promise<TaskStore> => {
    const user = `u${randomUUID().slice(0, 8)}`;
    await ns.redis.call(
      'ACL',
      'SETUSER',
      user,
      'on',
      '>pw',
      '~*',
      '+@all',
      ...denied.map((c) => `-${c}`),
    );
    const client = new Redis(redis.url, { username: user, password: 'pw' });
    clients.push(client);
    return new TaskStore(client, { prefix: ns.redisPrefix, resultTtlS: 600 });
  };

  const pending = async (): Promise<string> => {
    const taskId = `c-${randomUUID()}`;
    const at = new Date().toISOString();
    await store.apply({
      v: 1,
      task_id: taskId,
      type: DATA_PROCESS,
      state: 'PENDING',
      attempt: 0,
      seq: 0,
      at,
      worker: 'test',
      created_at: at,
    });
    return taskId;
  };

  it('writes the revocation and REVOKED together', async () => {
    const taskId = await pending();
    const outcome = await revokerOn(store).revokeOne(taskId, { reason: 'Task was revoked' });
    expect(outcome).toEqual({ kind: 'revoked', previous: 'PENDING' });
    expect(await store.isRevoked(taskId)).toBe(true);
    expect(await store.get(taskId)).toMatchObject({ state: 'REVOKED', error: 'Task was revoked' });
  });

  it('leaves nothing behind when Redis refuses the record update', async () => {
    const taskId = await pending();
    const refusing = await storeWithout(['eval', 'evalsha']);
    await expect(
      revokerOn(refusing).revokeOne(taskId, { reason: 'Task was revoked' }),
    ).rejects.toThrow(/NOPERM/);
    expect(await store.isRevoked(taskId)).toBe(false);
    expect((await store.get(taskId))?.state).toBe('PENDING');
  });

  it('leaves nothing behind when Redis refuses the revocation', async () => {
    const taskId = await pending();
    const refusing = await storeWithout(['set']);
    await expect(
      revokerOn(refusing).revokeOne(taskId, { reason: 'Task was revoked' }),
    ).rejects.toThrow(/NOPERM|can't run this command/);
    expect(await store.isRevoked(taskId)).toBe(false);
    expect((await store.get(taskId))?.state).toBe('PENDING');
  });

  it('does not touch a finished task', async () => {
    const taskId = await pending();
    const at = new Date().toISOString();
    await store.apply({
      v: 1,
      task_id: taskId,
      type: DATA_PROCESS,
      state: 'SUCCESS',
      attempt: 1,
      seq: 2,
      at,
      worker: 'w',
    });
    const outcome = await revokerOn(store).revokeOne(taskId, { reason: 'Task was revoked' });
    expect(outcome).toEqual({ kind: 'finished', state: 'SUCCESS' });
    expect(await store.isRevoked(taskId)).toBe(false);
  });
});

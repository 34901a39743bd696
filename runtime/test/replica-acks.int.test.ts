/**
 * WAIT after state writes, against a private master and its replica: with replica acks a
 * registration, a batch of events and a cancel resolve only once the replica has them, and fail
 * with STORE_UNAVAILABLE when it does not answer in time (frozen replica); without them (the
 * single-server default) nothing waits.
 */
import type { StateEvent } from '@tasks/contracts';
import { errorCode, TaskStore } from '@tasks/runtime';
import { PrivateRedis, waitFor } from '@tasks/runtime/testing';
import Redis from 'ioredis';

const PREFIX = 'acks:';
const WAIT_MS = 300;

const pending = (taskId: string): StateEvent => ({
  v: 1,
  task_id: taskId,
  type: 'task.data.process',
  state: 'PENDING',
  attempt: 0,
  seq: 0,
  at: new Date().toISOString(),
  worker: 'test',
  created_at: new Date().toISOString(),
  priority: 0,
});

const success = (taskId: string): StateEvent => ({
  ...pending(taskId),
  state: 'SUCCESS',
  attempt: 1,
  seq: 2,
  result: { ok: true },
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the write to fail');
}

describe('TaskStore with replica acks (private master + replica)', () => {
  let master: PrivateRedis;
  let replica: PrivateRedis;
  let client: Redis;
  let onReplica: Redis;

  beforeAll(async () => {
    master = await PrivateRedis.start();
    replica = await PrivateRedis.start({
      extraArgs: ['--replicaof', '127.0.0.1', String(master.port)],
    });
    client = new Redis(master.url, { maxRetriesPerRequest: 1 });
    onReplica = new Redis(replica.url, { maxRetriesPerRequest: 1 });
    await waitFor(async () =>
      (await onReplica.info('replication')).includes('master_link_status:up'),
    );
  }, 30_000);

  afterAll(async () => {
    client.disconnect();
    onReplica.disconnect();
    await Promise.all([master.stop(), replica.stop()]);
  });

  const storeWith = (replicas: number): TaskStore =>
    new TaskStore(client, {
      prefix: PREFIX,
      resultTtlS: 60,
      replicaAcks: { replicas, timeoutMs: WAIT_MS },
    });

  it('resolves a registration, an event batch and a cancel once the replica has them', async () => {
    const store = storeWith(1);
    await store.register(pending('r-1'));
    // WAIT returned 1: the replica already holds the record, no polling needed.
    expect(await onReplica.hget(`${PREFIX}task:r-1`, 'state')).toBe('PENDING');
    await store.applyAll([success('r-1'), pending('r-2')]);
    expect(await onReplica.hget(`${PREFIX}task:r-1`, 'state')).toBe('SUCCESS');
    const revoked = await store.revokeRecord({ ...pending('r-2'), state: 'REVOKED', seq: 1 }, 60);
    expect(revoked.kind).toBe('revoked');
    expect(await onReplica.hget(`${PREFIX}task:r-2`, 'state')).toBe('REVOKED');
  });

  describe('while the replica is frozen', () => {
    beforeEach(() => replica.freeze());
    afterEach(() => replica.thaw());

    it('fails a registration and an event batch with STORE_UNAVAILABLE after the wait', async () => {
      const store = storeWith(1);
      const started = Date.now();
      const err = await rejection(store.register(pending('f-1')));
      expect(errorCode(err)).toBe('STORE_UNAVAILABLE');
      expect((err as Error).message).toBe(
        `the write reached 0 of 1 Redis replicas within ${WAIT_MS} ms`,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(WAIT_MS - 20);
      expect(errorCode(await rejection(store.applyAll([success('f-1')])))).toBe(
        'STORE_UNAVAILABLE',
      );
    });

    it('waits for nothing without replica acks (the single-server default)', async () => {
      const store = new TaskStore(client, { prefix: PREFIX, resultTtlS: 60 });
      const started = Date.now();
      expect(await store.register(pending('d-1'))).toBe(true);
      expect(await store.applyAll([success('d-1')])).toEqual([true]);
      expect(Date.now() - started).toBeLessThan(WAIT_MS);
      expect(storeWith(0)).toBeInstanceOf(TaskStore);
      expect(await storeWith(0).register(pending('d-2'))).toBe(true);
    });
  });
});

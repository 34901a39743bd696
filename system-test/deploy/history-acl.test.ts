/**
 * The Redis ACLs of deploy/secrets.example (make-secrets.js) allow the task history: a private
 * redis-server loads the generated ACL file, and each service's user runs the apply scripts that
 * keep the indexes and timelines (their trim of expired tasks included), the gateway's reads and
 * its undo of a failed replay, under the production prefix `tasks:`. Redis checks the commands a
 * script calls: a missing one would fail here with NOPERM.
 */
import type { StateEvent, TaskState } from '@tasks/contracts';
import { TaskHistory, TaskStore } from '@tasks/runtime';
import { waitFor } from '@tasks/runtime/testing';
import { AclRedis } from '../support/acl-redis';

const PREFIX = 'tasks:';

describe('Redis ACLs for the task history', () => {
  let acl: AclRedis;

  beforeAll(async () => {
    acl = await AclRedis.start();
  }, 30_000);

  afterAll(async () => {
    await acl?.stop();
  });

  /** A store logged in as the service's user, with the password of its dev URL. */
  const storeOf = (service: string, resultTtlS = 60): TaskStore => {
    const client = acl.as(service);
    return new TaskStore(client, { prefix: PREFIX, resultTtlS });
  };

  const event = (id: string, state: TaskState, attempt: number, seq: number): StateEvent => {
    const at = new Date().toISOString();
    return {
      v: 1,
      task_id: id,
      type: 'task.data.process',
      state,
      attempt,
      seq,
      at,
      worker: 'w',
      ...(state === 'PENDING' ? { created_at: at, owner: 'key-a' } : {}),
      ...(state === 'FAILURE' ? { error: 'boom' } : {}),
    };
  };

  it('lets the gateway, the status-store and the scheduler keep and read the history', async () => {
    const gateway = storeOf('gateway');
    const statusStore = storeOf('status-store', 1);
    const scheduler = storeOf('scheduler');

    await gateway.register(event('a', 'PENDING', 0, 0));
    await scheduler.register(event('s', 'PENDING', 0, 0));
    await statusStore.applyAll([
      event('a', 'STARTED', 1, 0),
      event('a', 'PROGRESS', 1, 1),
      event('a', 'PROGRESS', 1, 2),
      event('a', 'FAILURE', 1, 3),
    ]);
    await gateway.revokeRecord(event('s', 'REVOKED', 0, Number.MAX_SAFE_INTEGER), 60);

    const history = new TaskHistory(gateway.redis, gateway);
    const page = await history.page({ limit: 10, states: ['FAILURE'], owner: 'key-a' });
    expect(page.tasks.map((t) => t.task_id)).toEqual(['a']);
    expect((await history.page({ limit: 10 })).tasks.map((t) => t.task_id)).toEqual(['s', 'a']);
    expect((await gateway.events('a')).map((e) => e.state)).toEqual([
      'PENDING',
      'STARTED',
      'PROGRESS',
      'FAILURE',
    ]);

    // A replay whose publish failed is undone, indexes and timeline included.
    const before = await gateway.snapshot('a');
    expect(await gateway.reopen({ ...event('a', 'PENDING', 2, 0), owner: undefined })).toBe(true);
    expect(await gateway.restore(before, 2)).toBe(true);
    expect((await gateway.get('a'))?.state).toBe('FAILURE');

    // The trim: 'a' expires (1 s after FAILURE, written by the status-store's store), and the
    // status-store's next write drops it from every index.
    await waitFor(async () => (await gateway.get('a')) === undefined, { timeoutMs: 5000 });
    await statusStore.applyAll([event('b', 'PENDING', 0, 0)]);
    expect(await gateway.redis.zscore(`${PREFIX}hist:all`, 'a')).toBeNull();
  }, 30_000);
});

/**
 * The Redis ACLs of deploy/secrets.example (make-secrets.js) allow the worker control paths: a
 * private redis-server loads the generated ACL file; the gateway writes a service's control state
 * and the audit list, each worker service reads the state, and may not write it.
 */
import { DEFAULT_SERVICE_CONTROL, WORKER_SERVICES } from '@tasks/contracts';
import { WorkerControlStore } from '@tasks/runtime';
import { AclRedis } from '../support/acl-redis';

const PREFIX = 'tasks:';

describe('Redis ACLs for worker control', () => {
  let acl: AclRedis;

  beforeAll(async () => {
    acl = await AclRedis.start();
  }, 30_000);

  afterAll(async () => {
    await acl?.stop();
  });

  const as = (service: string): WorkerControlStore => {
    const client = acl.as(service);
    return new WorkerControlStore(client, PREFIX);
  };

  it('lets the gateway write and every worker read its service’s state, never write it', async () => {
    const gateway = as('gateway');
    const paused = { ...DEFAULT_SERVICE_CONTROL, paused: true, concurrency: 2 };
    for (const service of WORKER_SERVICES) await gateway.write(service, paused);
    await gateway.recordAction({
      at: new Date().toISOString(),
      action: 'pause',
      target: 'email-worker',
      actor: 'ops',
    });
    expect(await gateway.recentActions()).toEqual([
      expect.objectContaining({ action: 'pause', actor: 'ops' }),
    ]);
    expect((await gateway.readAll()).size).toBe(WORKER_SERVICES.length);

    for (const service of WORKER_SERVICES) {
      const worker = as(service);
      expect(await worker.read(service)).toMatchObject({ paused: true, concurrency: 2 });
      await expect(worker.write(service, DEFAULT_SERVICE_CONTROL)).rejects.toThrow(/NOPERM/);
    }
  });
});

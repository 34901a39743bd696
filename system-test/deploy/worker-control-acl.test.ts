/**
 * The Redis ACLs of deploy/secrets.example (make-secrets.js) allow the worker control paths: a
 * private redis-server loads the generated ACL file; the gateway writes a service's control state
 * and the audit list, each worker service reads the state, and may not write it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SERVICE_CONTROL, WORKER_SERVICES } from '@tasks/contracts';
import {
  closeRedis,
  createLogger,
  createRedis,
  type Redis,
  WorkerControlStore,
} from '@tasks/runtime';
import { PrivateRedis } from '@tasks/runtime/testing';
import { REPO_ROOT } from '../support/service-process';

const SECRETS = join(REPO_ROOT, 'deploy', 'secrets.example');
const PREFIX = 'tasks:';
const log = createLogger({ service: 'test', level: 'silent' });

describe('Redis ACLs for worker control', () => {
  let server: PrivateRedis;
  let aclDir = '';
  const clients: Redis[] = [];

  beforeAll(async () => {
    // As in workflow-acl.test.ts: an older local redis-server does not know CLIENT SETINFO.
    const acl = readFileSync(join(SECRETS, 'redis-users.acl'), 'utf8').replaceAll(
      ' +client|setinfo',
      '',
    );
    aclDir = mkdtempSync(join(tmpdir(), 'acl-'));
    writeFileSync(join(aclDir, 'users.acl'), acl);
    server = await PrivateRedis.start({ extraArgs: ['--aclfile', join(aclDir, 'users.acl')] });
  }, 30_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => closeRedis(c)));
    await server?.stop();
    rmSync(aclDir, { recursive: true, force: true });
  });

  const as = (service: string): WorkerControlStore => {
    const url = new URL(readFileSync(join(SECRETS, `redis-url-${service}`), 'utf8').trim());
    url.host = `127.0.0.1:${server.port}`;
    const client = createRedis({ url: url.toString(), name: service, log });
    clients.push(client);
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

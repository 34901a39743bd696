/**
 * Least privilege, on the real broker and Redis: `npm run provision` creates one RabbitMQ user
 * and one Redis ACL user per service (in a vhost, user-name prefix and key prefix of this run,
 * all removed afterwards). A worker's credentials cannot publish to another service's exchange
 * or queue, consume another queue, declare anything, or touch keys outside the prefix or
 * commands outside its own; the platform still runs end to end with only these rights; and no
 * credential or API key appears in any log line of that run.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import Redis from 'ioredis';
import { deleteKeys, TEST_REDIS_URL, waitFor } from '@tasks/runtime/testing';
import { apiKeysEnv, bearer, makeKey } from '../support/api-keys';
import { REPO_ROOT, ServiceProcess, type ServiceName } from '../support/service-process';

jest.setTimeout(240_000);

const run = promisify(execFile);
const id = `p${randomBytes(4).toString('hex')}`;
const VHOST = `t-${id}`;
const USER_PREFIX = `${id}-`;
const KEY_PREFIX = `${id}:`;
const TOPOLOGY_ENV = { DELAY_UNIT_MS: '20', DELAY_LEVELS: '12', WORK_QUEUE_TYPE: 'classic' };
const client = makeKey('client', ['tasks:write', 'tasks:read']);
/** The e-mail worker logs in to an SMTP server with this password: it must never be logged. */
const SMTP_PASSWORD = `smtp-${randomBytes(12).toString('hex')}`;

let dir: string;
const provisionOutput: string[] = [];
const provision = async (...extra: string[]) => {
  const { stdout, stderr } = await run(
    process.execPath,
    [
      join(REPO_ROOT, 'deploy/provision.js'),
      dir,
      '--vhost',
      VHOST,
      '--user-prefix',
      USER_PREFIX,
      '--key-prefix',
      KEY_PREFIX,
      ...extra,
    ],
    { env: { ...process.env, ...TOPOLOGY_ENV }, timeout: 180_000 },
  );
  provisionOutput.push(stdout, stderr);
  return stdout;
};
const secret = (name: string) => readFile(join(dir, name), 'utf8');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'provision-'));
  expect(await provision()).toContain(`provisioned RabbitMQ users ${USER_PREFIX}gateway`);
});

afterAll(async () => {
  if (!dir) return;
  try {
    await provision('--remove');
  } finally {
    const admin = new Redis(TEST_REDIS_URL);
    await deleteKeys(admin, `${KEY_PREFIX}*`);
    admin.disconnect();
    await rm(dir, { recursive: true, force: true });
  }
});

/** Runs `action` on a fresh channel: 'ok', or the AMQP error code that closed the channel. */
async function attempt(
  connection: amqplib.ChannelModel,
  action: (channel: amqplib.ConfirmChannel) => Promise<unknown>,
): Promise<'ok' | number> {
  const channel = await connection.createConfirmChannel();
  const outcome = await new Promise<'ok' | number>((resolve) => {
    channel.once('error', (err: { code?: number }) => resolve(err.code ?? -1));
    action(channel).then(
      () => resolve('ok'),
      () => undefined, // the channel's error event carries the code
    );
  });
  if (outcome === 'ok') await channel.close();
  return outcome;
}

const publish = (exchange: string, routingKey: string) => (channel: amqplib.ConfirmChannel) =>
  new Promise<void>((resolve, reject) => {
    channel.publish(exchange, routingKey, Buffer.from('{}'), {}, (err) =>
      err ? reject(err as Error) : resolve(),
    );
  });
const consume = (queue: string) => async (channel: amqplib.ConfirmChannel) => {
  const { consumerTag } = await channel.consume(queue, () => undefined);
  await channel.cancel(consumerTag);
};

describe('RabbitMQ permissions of a worker', () => {
  let worker: amqplib.ChannelModel;
  let gateway: amqplib.ChannelModel;
  beforeAll(async () => {
    worker = await amqplib.connect(await secret('amqp-url-email-worker'));
    gateway = await amqplib.connect(await secret('amqp-url-gateway'));
  });
  afterAll(async () => {
    await worker?.close();
    await gateway?.close();
  });

  it('may consume its own queue and publish events', async () => {
    expect(await attempt(worker, consume('email-worker.tasks'))).toBe('ok');
    expect(await attempt(worker, publish('events', 'task.success.email'))).toBe('ok');
  });

  it("may not publish to another service's exchange or queue (403 ACCESS_REFUSED)", async () => {
    // Commands are the gateway's and the scheduler's to send.
    expect(await attempt(worker, publish('tasks', 'task.data.process'))).toBe(403);
    // Straight into another service's queue through the default exchange.
    expect(await attempt(worker, publish('', 'processing-worker.tasks'))).toBe(403);
    expect(await attempt(worker, publish('control', ''))).toBe(403);
    // The gateway may publish commands: the rule is the user's, not the exchange's.
    expect(await attempt(gateway, publish('tasks', 'task.data.process'))).toBe('ok');
  });

  it("may not reach another service's queue through the delay levels", async () => {
    // The delay levels route by the routing key's tail (`#.<queue>`) through exchange-to-exchange
    // bindings, and RabbitMQ checks write permission only on the exchange published to: the
    // routing key itself must be limited to the worker's own queue.
    const levels = Number(TOPOLOGY_ENV.DELAY_LEVELS);
    const key = (queue: string, bit: string) =>
      `${Array.from({ length: levels }, () => bit).join('.')}.${queue}`;
    for (const level of [0, levels - 1]) {
      const exchange = `tasks.delay.${level}`;
      expect(await attempt(worker, publish(exchange, key('processing-worker.tasks', '0')))).toBe(
        403,
      );
      expect(await attempt(worker, publish(exchange, key('report-worker.tasks', '1')))).toBe(403);
      // Its own queue (a retry) still goes through.
      expect(await attempt(worker, publish(exchange, key('email-worker.tasks', '0')))).toBe('ok');
    }
    // The level-0 hop is never a publisher's to use.
    expect(await attempt(worker, publish('tasks.delay.deliver', 'email-worker.tasks'))).toBe(403);
    // The gateway schedules commands for every queue.
    expect(
      await attempt(gateway, publish(`tasks.delay.${levels - 1}`, key('report-worker.tasks', '0'))),
    ).toBe('ok');
  });

  it("may not consume another service's queue or declare anything", async () => {
    expect(await attempt(worker, consume('processing-worker.tasks'))).toBe(403);
    expect(await attempt(worker, consume('status-store.events'))).toBe(403);
    expect(await attempt(worker, consume('email-worker.dead'))).toBe(403);
    expect(await attempt(worker, (ch) => ch.assertQueue('stolen', { durable: true }))).toBe(403);
    expect(await attempt(worker, (ch) => ch.assertExchange('tasks', 'topic'))).toBe(403);
    expect(await attempt(worker, (ch) => ch.deleteQueue('processing-worker.tasks'))).toBe(403);
  });

  it('cannot open another vhost', async () => {
    const url = new URL(await secret('amqp-url-email-worker'));
    url.pathname = '/';
    await expect(amqplib.connect(url.toString())).rejects.toThrow(/ConnectionClose|access|403/i);
  });
});

describe('Redis ACL of a worker', () => {
  let worker: Redis;
  beforeAll(async () => {
    worker = new Redis(await secret('redis-url-email-worker'), { maxRetriesPerRequest: 1 });
  });
  afterAll(() => worker?.disconnect());

  it('may use its own commands under the prefix', async () => {
    expect(await worker.set(`${KEY_PREFIX}effect:email:x`, '1', 'EX', 60)).toBe('OK');
    expect(await worker.get(`${KEY_PREFIX}effect:email:x`)).toBe('1');
  });

  it('may not read or write another prefix', async () => {
    await expect(worker.get('tasks:task:any')).rejects.toThrow(/NOPERM/);
    await expect(worker.get(`other-${KEY_PREFIX}key`)).rejects.toThrow(/NOPERM/);
    await expect(worker.set('elsewhere', '1')).rejects.toThrow(/NOPERM/);
  });

  it("may not write a task's record (its owner), schedules or another service's dead letters", async () => {
    const admin = new Redis(TEST_REDIS_URL);
    const task = `${KEY_PREFIX}task:00000000-0000-4000-8000-000000000001`;
    try {
      await admin.hset(task, 'owner', 'tenant-a', 'status', 'SUCCESS');
      await expect(worker.hset(task, 'owner', 'attacker')).rejects.toThrow(/NOPERM/);
      await expect(worker.del(task)).rejects.toThrow(/NOPERM/);
      expect(await admin.hget(task, 'owner')).toBe('tenant-a');
    } finally {
      await admin.del(task);
      admin.disconnect();
    }
    // What the scheduler fires and the gateway runs as admin.
    await expect(worker.hset(`${KEY_PREFIX}sched:defs`, 'x', '{}')).rejects.toThrow(/NOPERM/);
    await expect(worker.hset(`${KEY_PREFIX}sched:enabled`, 'x', '1')).rejects.toThrow(/NOPERM/);
    await expect(worker.set(`${KEY_PREFIX}sched:leader`, 'me')).rejects.toThrow(/NOPERM/);
    // Dead letters the gateway replays: another service's, and the shared index of old.
    for (const key of ['dead:processing-worker', 'dead', 'dead:processing-worker:index']) {
      await expect(worker.hset(`${KEY_PREFIX}${key}`, 'x', '{}')).rejects.toThrow(/NOPERM/);
    }
    await expect(worker.zadd(`${KEY_PREFIX}dead:index`, 1, 'x')).rejects.toThrow(/NOPERM/);
  });

  it('may record its own dead letters, but not read them back', async () => {
    const own = `${KEY_PREFIX}dead:email-worker`;
    const recorded = await worker
      .multi()
      .hset(own, 'x', '{}')
      .zadd(`${own}:index`, 1, 'x')
      .expire(own, 60)
      .exec();
    expect(recorded?.map(([err]) => err)).toEqual([null, null, null]);
    await expect(worker.hget(own, 'x')).rejects.toThrow(/NOPERM/);
  });

  it('may not run commands outside its own, even under the prefix', async () => {
    await expect(worker.hgetall(`${KEY_PREFIX}task:any`)).rejects.toThrow(/NOPERM/);
    await expect(worker.keys('*')).rejects.toThrow(/NOPERM/);
    await expect(worker.call('FLUSHALL')).rejects.toThrow(/NOPERM/);
    await expect(worker.call('CONFIG', 'GET', '*')).rejects.toThrow(/NOPERM/);
    await expect(worker.call('ACL', 'LIST')).rejects.toThrow(/NOPERM/);
    await expect(worker.subscribe('anything')).rejects.toThrow(/NOPERM/);
  });
});

describe('Redis ACL of the report worker (its cleanup task)', () => {
  let reporter: Redis;
  beforeAll(async () => {
    reporter = new Redis(await secret('redis-url-report-worker'), { maxRetriesPerRequest: 1 });
  });
  afterAll(() => reporter?.disconnect());

  it("drops old dead letters of every service, but cannot plant one in another's", async () => {
    const other = `${KEY_PREFIX}dead:processing-worker`;
    await expect(reporter.hset(other, 'x', '{}')).rejects.toThrow(/NOPERM/);
    expect(await reporter.zrangebyscore(`${other}:index`, 0, 1)).toEqual([]);
    expect(await reporter.hdel(other, 'x')).toBe(0);
    expect(await reporter.zrem(`${other}:index`, 'x')).toBe(0);
  });
});

describe('a full run with only the provisioned rights', () => {
  const processes: ServiceProcess[] = [];
  let workDir: string;
  let smtpPort: number;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'provision-run-'));
    // A port nothing listens on: the e-mail worker's SMTP logins fail, and it logs them.
    smtpPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGTERM')));
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  async function start(name: ServiceName, ready: string): Promise<ServiceProcess> {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...TOPOLOGY_ENV,
      AMQP_URL: await secret(`amqp-url-${name}`),
      REDIS_URL: await secret(`redis-url-${name}`),
      AMQP_PREFIX: '',
      REDIS_PREFIX: KEY_PREFIX,
      AMQP_DECLARE_TOPOLOGY: 'false',
      LOG_LEVEL: 'debug',
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      METRICS_PORT: '0',
      WORKER_HEARTBEAT_MS: '500',
      PROCESS_STEP_MS: '20',
      RETRY_BASE_MS: '200',
      MAX_RETRIES: '20',
      API_KEYS: apiKeysEnv([client]),
      REPORTS_DIR: join(workDir, 'reports'),
      MAIL_DIR: join(workDir, 'mail'),
      SMTP_URL: `smtp://mailer:${SMTP_PASSWORD}@127.0.0.1:${smtpPort}`,
    };
    const service = new ServiceProcess(name, env);
    processes.push(service);
    await service.waitForLog(ready, { timeoutMs: 30_000 }).catch((err: unknown) => {
      throw new Error(
        `${name} did not start: ${String(err)}\n${service.raw.slice(-20).join('\n')}`,
      );
    });
    return service;
  }

  it('runs tasks end to end, and no secret appears in any log line', async () => {
    await start('status-store', 'status-store started');
    await start('processing-worker', 'worker started');
    await start('email-worker', 'worker started');
    await start('report-worker', 'worker started');
    const gateway = await start('gateway', 'gateway listening');
    const base = String((await gateway.waitForLog('gateway listening')).url);
    await gateway.waitForLog('amqp connected', { fields: { connection: 'gateway.publish' } });

    const post = async (kind: string, body: unknown) => {
      const response = await fetch(`${base}/tasks/${kind}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(client) },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(202);
      return ((await response.json()) as { task_id: string }).task_id;
    };
    const status = async (taskId: string) =>
      (await (await fetch(`${base}/tasks/${taskId}`, { headers: bearer(client) })).json()) as {
        status: string;
      };

    // An old dead letter of another service: the cleanup task drops it (read and delete only).
    const admin = new Redis(TEST_REDIS_URL);
    const oldId = '00000000-0000-4000-8000-00000000000a';
    await admin.hset(`${KEY_PREFIX}dead:processing-worker`, oldId, '{}');
    await admin.zadd(`${KEY_PREFIX}dead:processing-worker:index`, 1, oldId);
    const reportId = await post('report', { report_type: 'tasks_summary', params: {} });
    // The cleanup command, as the scheduler sends it (the API does not take it).
    const gatewayAmqp = await amqplib.connect(await secret('amqp-url-gateway'));
    expect(
      await attempt(
        gatewayAmqp,
        (channel) =>
          new Promise<void>((resolve, reject) => {
            const command = {
              v: 1,
              task_id: randomUUID(),
              type: 'task.maintenance.cleanup',
              payload: { dead_letter_retention_days: 1 },
              priority: 0,
              created_at: new Date().toISOString(),
            };
            channel.publish(
              'tasks',
              'task.maintenance.cleanup',
              Buffer.from(JSON.stringify(command)),
              { messageId: command.task_id, type: command.type, persistent: true },
              (err) => (err ? reject(err as Error) : resolve()),
            );
          }),
      ),
    ).toBe('ok');
    await gatewayAmqp.close();
    const processId = await post('process', { data: { records: 3 } });
    const emailId = await post('email', { email: 'a@example.com', subject: 'Hi', body: 'x' });
    await waitFor(async () => (await status(processId)).status === 'SUCCESS' || undefined, {
      timeoutMs: 60_000,
      message: 'the process task succeeds',
    });
    await waitFor(async () => (await status(reportId)).status === 'SUCCESS' || undefined, {
      timeoutMs: 60_000,
      message: 'the report task succeeds',
    });
    await waitFor(
      async () => (await admin.exists(`${KEY_PREFIX}dead:processing-worker`)) === 0 || undefined,
      { timeoutMs: 60_000, message: 'the cleanup task drops the old dead letter' },
    );
    admin.disconnect();
    // The SMTP server is away: the e-mail retries (its failures are logged), and is cancelled.
    await waitFor(async () => (await status(emailId)).status === 'RETRY' || undefined, {
      timeoutMs: 60_000,
      message: 'the e-mail task retries',
    });
    const cancel = await fetch(`${base}/tasks/${emailId}`, {
      method: 'DELETE',
      headers: bearer(client),
    });
    expect(cancel.status).toBe(200);

    const logs = processes.flatMap((p) => p.raw).join('\n');
    // Only the rights they were given were ever needed.
    expect(logs).not.toMatch(/NOPERM|ACCESS_REFUSED|access_refused/);
    expect(logs).toMatch(/smtp/i); // the SMTP failures were logged …

    const secrets = [client.key, SMTP_PASSWORD];
    for (const file of [
      'amqp-url-gateway',
      'amqp-url-status-store',
      'amqp-url-email-worker',
      'amqp-url-processing-worker',
      'redis-url-gateway',
      'redis-url-status-store',
      'redis-url-email-worker',
      'redis-url-processing-worker',
      'amqp-url-report-worker',
      'redis-url-report-worker',
    ]) {
      secrets.push(decodeURIComponent(new URL(await secret(file)).password));
    }
    for (const value of secrets) {
      expect(value.length).toBeGreaterThan(10);
      expect(logs).not.toContain(value); // … without their password
      expect(provisionOutput.join('\n')).not.toContain(value);
    }
  });
});

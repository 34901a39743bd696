/**
 * What the gateway publishes with its own rights from Redis, an admin's replay of a dead letter
 * and an admin's run of a schedule, is checked first: entries a compromised service could have
 * written (or that are simply corrupt) answer 409 naming what is wrong, and nothing is
 * published. Sound ones are published as before.
 */
import { randomUUID } from 'node:crypto';
import { RedisKeys } from '@tasks/runtime';
import { TestPlatform } from '../support/test-platform';

jest.setTimeout(90_000);

describe('commands the gateway publishes from Redis', () => {
  let platform: TestPlatform;
  let keys: RedisKeys;

  beforeAll(async () => {
    // No workers: whatever is published stays in its queue, to be counted.
    platform = await TestPlatform.start({ services: ['gateway'] });
    keys = new RedisKeys(platform.ns.redisPrefix);
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const depth = (service: string) => platform.ns.depth(platform.ns.names.workQueue(service));
  const emailCommand = (taskId: string, payload: Record<string, unknown>) =>
    JSON.stringify({
      v: 1,
      task_id: taskId,
      type: 'task.email.send',
      payload,
      priority: 0,
      created_at: new Date().toISOString(),
    });
  const plantDeadLetter = async (
    storedBy: string,
    entry: { task_id: string; service: string; type: string; content: string },
  ) => {
    const full = {
      reason: 'test',
      parked_at: new Date().toISOString(),
      parked_by: `${storedBy}@test`,
      attempt: 1,
      priority: 0,
      headers: {},
      ...entry,
    };
    await platform.ns.redis.hset(keys.deadLettersOf(storedBy), entry.task_id, JSON.stringify(full));
    await platform.ns.redis.zadd(keys.deadLetterIndexOf(storedBy), Date.now(), entry.task_id);
  };
  const replay = (taskId: string) =>
    platform.request('POST', `/dead-letters/${encodeURIComponent(taskId)}/replay`);

  it("refuses a dead letter stored under another service's keys than its task type's", async () => {
    const taskId = randomUUID();
    const mail = { email: 'victim@example.com', subject: 'Hi', body: 'x' };
    await plantDeadLetter('processing-worker', {
      task_id: taskId,
      service: 'email-worker',
      type: 'task.email.send',
      content: emailCommand(taskId, mail),
    });
    const response = await replay(taskId);
    expect(response.status).toBe(409);
    expect(JSON.stringify(response.body)).toMatch(/service/);
    expect(await depth('email-worker')).toBe(0);
  });

  it('refuses a dead letter whose command names another task or type, or no platform id', async () => {
    const mail = { email: 'a@example.com', subject: 'Hi', body: 'x' };
    const taskId = randomUUID();
    await plantDeadLetter('email-worker', {
      task_id: taskId,
      service: 'email-worker',
      type: 'task.email.send',
      content: emailCommand(randomUUID(), mail),
    });
    expect((await replay(taskId)).status).toBe(409);
    const typed = randomUUID();
    await plantDeadLetter('email-worker', {
      task_id: typed,
      service: 'email-worker',
      type: 'task.email.send',
      content: emailCommand(typed, mail).replace('task.email.send', 'task.data.process'),
    });
    expect((await replay(typed)).status).toBe(409);
    await plantDeadLetter('email-worker', {
      task_id: '../x',
      service: 'email-worker',
      type: 'task.email.send',
      content: emailCommand('../x', mail),
    });
    expect((await replay('../x')).status).toBe(409);
    expect(await depth('email-worker')).toBe(0);
  });

  it('replays a sound dead letter', async () => {
    await platform.ns.drain(platform.ns.names.workQueue('email-worker'));
    const taskId = randomUUID();
    await plantDeadLetter('email-worker', {
      task_id: taskId,
      service: 'email-worker',
      type: 'task.email.send',
      content: emailCommand(taskId, { email: 'a@example.com', subject: 'Hi', body: 'x' }),
    });
    expect((await replay(taskId)).status).toBe(202);
    expect(await depth('email-worker')).toBe(1);
    await platform.ns.drain(platform.ns.names.workQueue('email-worker'));
  });

  const plantSchedule = (definition: Record<string, unknown>) =>
    platform.ns.redis.hset(
      keys.scheduleDefinitions,
      String(definition.name),
      JSON.stringify({
        priority: 0,
        every: '1h',
        timezone: 'UTC',
        catch_up: 'latest',
        enabled: true,
        next_run_at: null,
        ...definition,
      }),
    );

  it('refuses to run a schedule whose definition is not a valid command', async () => {
    const bad = [
      { name: 'unknown-type', task: 'task.unknown.thing', payload: {} },
      // A Bcc smuggled into the subject: the e-mail schema refuses CR/LF.
      {
        name: 'header-injection',
        task: 'task.email.send',
        payload: { email: 'a@example.com', subject: 'Hi\r\nBcc: all@example.com', body: 'x' },
      },
      { name: 'bad-priority', task: 'task.email.send', priority: 99, payload: {} },
      { name: 'renamed', task: 'task.data.process', payload: { data: {} }, rename: true },
    ];
    for (const { rename, ...definition } of bad) {
      await plantSchedule(rename ? { ...definition, name: 'other-name' } : definition);
      if (rename) {
        await platform.ns.redis.hset(
          keys.scheduleDefinitions,
          definition.name,
          (await platform.ns.redis.hget(keys.scheduleDefinitions, 'other-name'))!,
        );
      }
      const response = await platform.request('POST', `/schedules/${definition.name}/run`);
      expect([definition.name, response.status]).toEqual([definition.name, 409]);
    }
    for (const service of ['email-worker', 'processing-worker', 'report-worker']) {
      expect(await depth(service)).toBe(0);
    }
  });

  it('runs a schedule whose definition is sound', async () => {
    await platform.ns.drain(platform.ns.names.workQueue('processing-worker'));
    await plantSchedule({ name: 'sound', task: 'task.data.process', payload: { data: { n: 1 } } });
    const response = await platform.request('POST', '/schedules/sound/run');
    expect(response.status).toBe(202);
    expect(await depth('processing-worker')).toBe(1);
  });
});

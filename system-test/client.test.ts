/**
 * `@tasks/client` against the real services: submit, get, wait (over the event stream and by
 * polling), progress, cancel, a 422 naming its field, a submit whose answer was lost,
 * retried with its Idempotency-Key onto the same task, and schedules created, replaced and
 * deleted; the history, page by page, and a task's timeline.
 */
import {
  type ProgressUpdate,
  TasksClient,
  TasksHttpError,
  TasksNotFoundError,
  TasksValidationError,
} from '@tasks/client';
import { gatewayConnected, taskRecordCount } from './support/probes';
import { TestPlatform } from './support/test-platform';

// Generous per-test time: the tasks themselves take a second or two, a busy machine more.
jest.setTimeout(30_000);

describe('@tasks/client against the platform', () => {
  let platform: TestPlatform;
  let client: TasksClient;

  beforeAll(async () => {
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'processing-worker'],
      env: { PROCESS_STEPS: '4', PROCESS_STEP_MS: '100' },
    });
    await gatewayConnected(platform);
    client = new TasksClient({ baseUrl: platform.baseUrl });
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  it('submits a task, reads it, and waits for its SUCCESS', async () => {
    const created = await client.process({ data: { records: 4 } }, { priority: 7 });
    expect(created.status).toBe('queued');
    const read = await client.get(created.task_id);
    expect(read.task_id).toBe(created.task_id);
    const done = await client.wait(created.task_id, { timeoutMs: 15_000 });
    expect(done.status).toBe('SUCCESS');
    expect(done.priority).toBe(7);
  });

  it('follows progress step by step to 100 %, by stream and by polling alike', async () => {
    for (const events of [true, false]) {
      const streamsOpened: string[] = [];
      const counting = new TasksClient({
        baseUrl: platform.baseUrl,
        fetch: (input, init) => {
          const url = input instanceof Request ? input.url : input.toString();
          if (url.endsWith('/events')) streamsOpened.push(url);
          return fetch(input, init);
        },
      });
      // A countdown: the watch starts before the first step.
      const { task_id } = await client.process({ data: { records: 4 } }, { countdown: 1 });
      const updates: ProgressUpdate[] = [];
      for await (const update of counting.progress(task_id, {
        events,
        pollIntervalMs: 20,
        timeoutMs: 15_000,
      })) {
        updates.push(update);
      }
      const percents = updates.flatMap((u) => (u.percent === undefined ? [] : [u.percent]));
      expect(percents.length).toBeGreaterThanOrEqual(events ? 4 : 2);
      expect(percents).toEqual([...percents].sort((a, b) => a - b));
      expect(updates.at(-1)).toMatchObject({ state: 'SUCCESS', percent: 100 });
      expect(streamsOpened).toHaveLength(events ? 1 : 0);
    }
  });

  it('cancels a task that waits for its countdown: wait answers REVOKED', async () => {
    const { task_id } = await client.process({ data: { records: 4 } }, { countdown: 60 });
    const cancelled = await client.cancel(task_id);
    expect(cancelled.previous_status).toBe('PENDING');
    expect((await client.wait(task_id, { timeoutMs: 10_000 })).status).toBe('REVOKED');
  });

  it('throws a TasksValidationError naming the bad field, and TasksNotFoundError for no task', async () => {
    const invalid = await client
      .process({ data: { records: 'many' } } as never)
      .catch((err: unknown) => err);
    expect(invalid).toBeInstanceOf(TasksValidationError);
    expect((invalid as TasksValidationError).field).toBe('data.records');
    await expect(client.get('no-such-task')).rejects.toBeInstanceOf(TasksNotFoundError);
  });

  it('creates, replaces and deletes a schedule, with typed errors for 409, 422 and 404', async () => {
    const schedule = {
      name: 'client-made',
      task: 'task.data.process',
      payload: { data: { records: 1 } },
      every: '1h',
    };
    const created = await client.schedules.create(schedule);
    expect(created).toMatchObject({ name: 'client-made', every: '1h', enabled: true });
    const taken = await client.schedules.create(schedule).catch((err: unknown) => err);
    expect(taken).toBeInstanceOf(TasksHttpError);
    expect((taken as TasksHttpError).status).toBe(409);
    const invalid = await client.schedules
      .replace('client-made', { ...schedule, every: 'hourly' })
      .catch((err: unknown) => err);
    expect(invalid).toBeInstanceOf(TasksValidationError);
    expect((invalid as TasksValidationError).field).toBe('every');

    const replaced = await client.schedules.replace('client-made', {
      task: 'task.data.process',
      payload: { data: { records: 2 } },
      cron: '0 9 * * *',
      timezone: 'Europe/Kyiv',
    });
    expect(replaced).toMatchObject({ cron: '0 9 * * *', payload: { data: { records: 2 } } });
    expect((await client.schedules.list()).schedules.map((s) => s.name)).toContain('client-made');

    await client.schedules.delete('client-made');
    expect((await client.schedules.list()).schedules.map((s) => s.name)).not.toContain(
      'client-made',
    );
    await expect(client.schedules.delete('client-made')).rejects.toBeInstanceOf(TasksNotFoundError);
  });

  it('lists workers, pauses, resizes and resumes a service, and names a bad concurrency', async () => {
    const listed = await client.workers.list();
    expect(listed.workers).toContainEqual(
      expect.objectContaining({ service: 'processing-worker', online: true }),
    );
    expect(await client.workers.pause('processing-worker')).toMatchObject({ paused: true });
    expect(await client.workers.setConcurrency('processing-worker', 3)).toMatchObject({
      paused: true,
      concurrency: 3,
    });
    const invalid = await client.workers
      .setConcurrency('processing-worker', 0)
      .catch((err: unknown) => err);
    expect(invalid).toBeInstanceOf(TasksValidationError);
    expect((invalid as TasksValidationError).field).toBe('concurrency');
    await expect(client.workers.drain('nobody@nowhere-1')).rejects.toBeInstanceOf(
      TasksNotFoundError,
    );
    expect(await client.workers.setConcurrency('processing-worker', 50)).toMatchObject({
      concurrency: 50,
    });
    expect(await client.workers.resume('processing-worker')).toMatchObject({ paused: false });
    const { recent_actions } = await client.workers.list();
    expect(recent_actions.map((a) => a.action).slice(0, 4)).toEqual([
      'resume',
      'concurrency',
      'concurrency',
      'pause',
    ]);
  });

  it('retries a submit whose answer was lost with the same Idempotency-Key: one task', async () => {
    let lost = 0;
    const losing = new TasksClient({
      baseUrl: platform.baseUrl,
      retry: { baseDelayMs: 10 },
      // The gateway takes the first request; its answer is lost on the way back.
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (lost === 0 && init?.method === 'POST') {
          lost += 1;
          await response.arrayBuffer();
          throw new TypeError('fetch failed');
        }
        return response;
      },
    });
    const before = await taskRecordCount(platform);
    const created = await losing.process({ data: { records: 1 } });
    expect(lost).toBe(1);
    expect(await taskRecordCount(platform)).toBe(before + 1);
    expect((await client.wait(created.task_id, { timeoutMs: 15_000 })).status).toBe('SUCCESS');
  });

  it('lists the history page by page with filters, and reads a timeline', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const { task_id } = await client.process({ data: { records: 1 } });
      await client.wait(task_id, { timeoutMs: 15_000 });
      ids.push(task_id);
    }
    const since = (await client.get(ids[0]!)).created_at!;
    const filters = { state: 'SUCCESS', type: ['task.data.process'], since, limit: 2 } as const;
    const first = await client.listTasks(filters);
    expect(first.tasks.map((t) => t.task_id)).toEqual([ids[2], ids[1]]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await client.listTasks({ ...filters, cursor: first.next_cursor! });
    expect(second.tasks.map((t) => t.task_id)).toEqual([ids[0]]);

    const all: string[] = [];
    for await (const task of client.allTasks({ since: new Date(since), limit: 1 })) {
      all.push(task.task_id);
    }
    expect(all).toEqual([...ids].reverse());

    const bad = await client.listTasks({ limit: 1000 }).catch((err: unknown) => err);
    expect(bad).toBeInstanceOf(TasksValidationError);
    expect((bad as TasksValidationError).field).toBe('limit');

    const timeline = await client.history(ids[0]!);
    expect(timeline.events[0]!.state).toBe('PENDING');
    expect(timeline.events.at(-1)!.state).toBe('SUCCESS');
    await expect(client.history('no-such-task')).rejects.toBeInstanceOf(TasksNotFoundError);
  });
});

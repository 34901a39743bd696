/**
 * Schedules at runtime, as real processes (gateway and scheduler) with API keys: POST, PUT and
 * DELETE /schedules with their 201, 204, 404, 409 and 422 answers and the admin scope; a
 * schedule created with `every: "2s"` fires and stops once deleted; a replaced one fires its new
 * definition without firing a due time twice; and what was changed at runtime (created,
 * replaced, a file schedule deleted) stays so when the scheduler restarts on the same file.
 *
 * The commands actually published are counted by a queue of the test's own, bound to the
 * namespace's tasks exchange with `task.data.process`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_PROCESS } from '@tasks/contracts';
import { waitFor } from '@tasks/runtime/testing';
import { apiKeysEnv, bearer, makeKey } from './support/api-keys';
import { type FiredCommand, recordFiredCommands } from './support/fired-commands';
import type { ServiceProcess } from './support/service-process';
import { TestPlatform } from './support/test-platform';

jest.setTimeout(60_000);

const TICK_MS = 250;
const SECOND = 1000;

const admin = makeKey('ops', ['admin']);
const writer = makeKey('writer', ['tasks:write', 'tasks:read']);

const SCHEDULES_YAML = `
schedules:
  - name: file-hourly
    task: task.data.process
    payload: { data: { records: 1 } }
    cron: '0 * * * *'
  - name: file-doomed
    task: task.data.process
    payload: { data: { records: 1 } }
    cron: '30 * * * *'
`;

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

const pulse = (name: string, every = '2s', records = 1): Record<string, unknown> => ({
  name,
  task: DATA_PROCESS,
  payload: { data: { records } },
  every,
});

describe('schedules at runtime', () => {
  let platform: TestPlatform;
  let dir: string;
  let file: string;
  let scheduler: ServiceProcess;
  let recording: { stop(): Promise<void> } | undefined;
  const published: FiredCommand[] = [];

  const call = (method: string, path: string, body?: unknown, key = admin): Promise<Answer> =>
    platform.request(method, path, body, bearer(key));
  const firedBy = (schedule: string): FiredCommand[] =>
    published.filter((p) => p.schedule === schedule);
  const dues = (schedule: string): number[] =>
    firedBy(schedule)
      .map((p) => p.dueMs)
      .sort((a, b) => a - b);
  const listed = async (): Promise<Record<string, unknown>[]> =>
    ((await call('GET', '/schedules')).body as { schedules: Record<string, unknown>[] }).schedules;
  /** The 422's `loc`s. */
  const locs = (answer: Answer): string[] =>
    (answer.body as { detail: { loc: (string | number)[] }[] }).detail.map((d) => d.loc.join('.'));
  /** Lets `ms` pass, so that a firing which should not happen would have happened. */
  const letPass = (ms: number): Promise<boolean> => {
    const until = Date.now() + ms;
    return waitFor(() => Date.now() >= until, { timeoutMs: ms + SECOND, message: `${ms} ms pass` });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runtime-schedules-'));
    file = join(dir, 'schedules.yaml');
    await writeFile(file, SCHEDULES_YAML);
    platform = await TestPlatform.start({
      services: ['gateway'],
      env: {
        API_KEYS: apiKeysEnv([admin, writer]),
        RATE_LIMIT_REQUESTS: '1000',
        SCHEDULES_FILE: file,
        SCHEDULER_TICK_MS: String(TICK_MS),
      },
    });
    recording = await recordFiredCommands(platform.ns, DATA_PROCESS, published);
    scheduler = await platform.startService('scheduler');
    await scheduler.waitForLog('scheduler leads', { timeoutMs: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await recording?.stop();
    await platform?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('lists the seeded file schedules', async () => {
    expect((await listed()).map((s) => s.name)).toEqual(['file-doomed', 'file-hourly']);
  });

  it('needs the admin scope for POST, PUT and DELETE /schedules', async () => {
    const attempts: [string, string, unknown][] = [
      ['POST', '/schedules', pulse('not-mine')],
      ['PUT', '/schedules/file-hourly', pulse('file-hourly')],
      ['DELETE', '/schedules/file-hourly', undefined],
    ];
    for (const [method, path, body] of attempts) {
      expect((await call(method, path, body, writer)).status).toBe(403);
      expect((await platform.request(method, path, body)).status).toBe(401);
    }
    expect((await listed()).map((s) => s.name)).toEqual(['file-doomed', 'file-hourly']);
  });

  it('answers 422 naming the field for each bad schedule', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...pulse('bad'), task: 'task.no.such' }, 'body.task'],
      [{ ...pulse('bad'), every: '2 seconds' }, 'body.every'],
      [{ ...pulse('bad'), every: '0s' }, 'body.every'],
      [{ ...pulse('bad'), every: undefined, cron: '61 * * * *' }, 'body.cron'],
      [{ ...pulse('bad'), every: undefined, cron: '0 0 30 2 *' }, 'body.cron'],
      [{ ...pulse('bad'), cron: '* * * * *' }, 'body.cron'],
      [{ ...pulse('bad'), payload: { data: { records: -1 } } }, 'body.payload.data.records'],
      [{ ...pulse('bad'), payload: {} }, 'body.payload.data'],
      [{ ...pulse('bad'), name: 'Not OK' }, 'body.name'],
      [{ ...pulse('bad'), name: undefined }, 'body.name'],
      [{ ...pulse('bad'), timezone: 'Mars/Olympus' }, 'body.timezone'],
      [{ ...pulse('bad'), catch_up: 'sometimes' }, 'body.catch_up'],
      [{ ...pulse('bad'), priority: 10 }, 'body.priority'],
    ];
    for (const [body, loc] of cases) {
      const answer = await call('POST', '/schedules', body);
      expect([JSON.stringify(body), answer.status]).toEqual([JSON.stringify(body), 422]);
      expect(locs(answer)).toContain(loc);
    }
    const noBody = await call('POST', '/schedules');
    expect(noBody.status).toBe(422);
    // PUT validates the same way, and a body's name must be the path's.
    const put = await call('PUT', '/schedules/file-hourly', { ...pulse('other-name') });
    expect(put.status).toBe(422);
    expect(locs(put)).toEqual(['body.name']);
    const badPut = await call('PUT', '/schedules/file-hourly', {
      ...pulse('x'),
      name: undefined,
      every: '1 h',
    });
    expect(badPut.status).toBe(422);
    expect(locs(badPut)).toEqual(['body.every']);
    expect((await listed()).map((s) => s.name)).toEqual(['file-doomed', 'file-hourly']);
  });

  it('answers 404 for PUT and DELETE of an unknown schedule', async () => {
    expect((await call('PUT', '/schedules/no-such', pulse('no-such'))).status).toBe(404);
    expect((await call('DELETE', '/schedules/no-such')).status).toBe(404);
  });

  it('fires a schedule created with every: "2s" at least twice, and stops once it is deleted', async () => {
    const created = await call('POST', '/schedules', pulse('pulse'));

    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'pulse',
      task: DATA_PROCESS,
      payload: { data: { records: 1 } },
      every: '2s',
      timezone: 'UTC',
      enabled: true,
      catch_up: 'latest',
      last_run_at: null,
    });
    expect((await call('POST', '/schedules', pulse('pulse', '5s'))).status).toBe(409);
    await waitFor(() => firedBy('pulse').length >= 2, {
      timeoutMs: 10 * SECOND,
      message: 'pulse fires twice',
    });
    const view = (await listed()).find((s) => s.name === 'pulse') as Record<string, unknown>;
    expect(firedBy('pulse').map((p) => p.taskId)).toContain(view.last_task_id);
    expect(Date.parse(String(view.next_run_at)) % (2 * SECOND)).toBe(0);
    // Each due time once, two seconds apart.
    const fired = dues('pulse');
    expect(new Set(fired).size).toBe(fired.length);
    expect(fired.every((d) => d % (2 * SECOND) === 0)).toBe(true);

    const deleted = await call('DELETE', '/schedules/pulse');
    const deletedAt = Date.now();

    expect(deleted.status).toBe(204);
    expect(deleted.body).toBe('');
    const countAtDelete = firedBy('pulse').length;
    // Three periods: a schedule still running would fire at least once more.
    await letPass(6 * SECOND);
    // A tick already running when the DELETE landed may fire a due time up to then, never later.
    expect(Math.max(...dues('pulse'))).toBeLessThanOrEqual(deletedAt);
    expect(firedBy('pulse').length).toBeLessThanOrEqual(countAtDelete + 1);
    expect((await listed()).map((s) => s.name)).not.toContain('pulse');
    expect((await call('DELETE', '/schedules/pulse')).status).toBe(404);
  }, 30_000);

  it('fires the new definition of a schedule replaced by PUT, no due time twice', async () => {
    expect((await call('POST', '/schedules', pulse('changer', '1h'))).status).toBe(201);

    const replaced = await call('PUT', '/schedules/changer', {
      ...pulse('changer', '1s', 7),
      name: undefined,
    });
    const replacedAt = Date.now();

    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      name: 'changer',
      every: '1s',
      payload: { data: { records: 7 } },
    });
    await waitFor(() => firedBy('changer').length >= 3, {
      timeoutMs: 10 * SECOND,
      message: 'changer fires its new every-1s definition',
    });
    expect(firedBy('changer').every((p) => p.payload.data !== undefined)).toBe(true);
    expect(firedBy('changer').map((p) => (p.payload.data as { records: number }).records)).toEqual(
      firedBy('changer').map(() => 7),
    );
    expect(Math.min(...dues('changer'))).toBeGreaterThan(replacedAt - 2 * SECOND);

    // Back to hourly: it stops firing every second; a due time both share is claimed once.
    expect((await call('PUT', '/schedules/changer', pulse('changer', '1h'))).status).toBe(200);
    const slowedAt = Date.now();
    await letPass(3 * SECOND);
    expect(Math.max(...dues('changer'))).toBeLessThanOrEqual(slowedAt);
    const fired = dues('changer');
    expect(new Set(fired).size).toBe(fired.length);
  }, 30_000);

  it('keeps runtime changes across a scheduler restart on the same file', async () => {
    // A file schedule replaced, a file schedule deleted, a runtime one disabled by PATCH.
    const replaced = await call('PUT', '/schedules/file-hourly', {
      ...pulse('file-hourly', '5m', 3),
      name: undefined,
    });
    expect(replaced.status).toBe(200);
    expect((await call('DELETE', '/schedules/file-doomed')).status).toBe(204);
    expect((await call('PATCH', '/schedules/changer', { enabled: false })).status).toBe(200);

    await scheduler.stop('SIGTERM');
    scheduler = await platform.startService('scheduler');
    await scheduler.waitForLog('scheduler leads', { timeoutMs: 10_000 });
    const started = await scheduler.waitForLog('scheduler started', { timeoutMs: 10_000 });
    expect(started.seeded).toEqual([]);
    // The new leader has taken the schedules up: their next runs are published again.
    await waitFor(
      async () => (await listed()).every((s) => s.next_run_at !== null || s.enabled === false),
      { timeoutMs: 5 * SECOND, message: 'the restarted leader publishes next runs' },
    );

    const views = await listed();
    expect(views.map((s) => s.name)).toEqual(['changer', 'file-hourly']);
    expect(views.find((s) => s.name === 'file-hourly')).toMatchObject({
      every: '5m',
      payload: { data: { records: 3 } },
    });
    expect(views.find((s) => s.name === 'file-hourly')?.cron).toBeUndefined();
    expect(views.find((s) => s.name === 'changer')).toMatchObject({ every: '1h', enabled: false });
    // Replacing drops the PATCH override: the definition's enabled counts again.
    const again = await call('PUT', '/schedules/changer', pulse('changer', '1h'));
    expect(again.body).toMatchObject({ enabled: true });
  }, 40_000);
});

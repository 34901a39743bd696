/**
 * The scheduler as real processes: two instances fire each due time of
 * an every-second schedule exactly once; a leader paused (SIGSTOP) past its lease is fenced off
 * when it wakes; SIGKILL of the leader hands over within 5 s without a tick fired twice; a
 * restart after a gap follows `catch_up`. Then the admin API through the gateway, and the cleanup
 * task on a prepared state.
 *
 * The commands actually published are counted by a queue of the test's own, bound to the
 * namespace's tasks exchange with `task.data.process`. The tests of this file run in order and
 * share the platform: each picks up the scheduler processes the previous one left.
 */
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_PROCESS } from '@tasks/contracts';
import { DeadLetterStore, RedisKeys, WorkerRegistry } from '@tasks/runtime';
import { waitFor } from '@tasks/runtime/testing';
import { type FiredCommand, recordFiredCommands } from './support/fired-commands';
import type { LogLine, ServiceProcess } from './support/service-process';
import { TestPlatform } from './support/test-platform';

const TICK_MS = 250;
const LEASE_MS = 3000;
/** The scheduler's on-time window: two ticks + 1 s, or a failover's gap (lease + two ticks). */
const GRACE_MS = Math.max(2 * TICK_MS + 1000, LEASE_MS + 2 * TICK_MS);
const SECOND = 1000;
const DAY_MS = 86_400_000;

const SCHEDULES_YAML = `
schedules:
  - name: tick-latest
    task: task.data.process
    payload: { data: { records: 1 } }
    every: 1s
    catch_up: latest
  - name: tick-none
    task: task.data.process
    payload: { data: { records: 1 } }
    every: 1s
    catch_up: none
  - name: cleanup
    task: task.maintenance.cleanup
    payload: {}
    cron: '0 * * * *'
    timezone: Europe/Kyiv
    enabled: false
`;

describe('scheduler', () => {
  let platform: TestPlatform;
  let dir: string;
  let recording: { stop(): Promise<void> } | undefined;
  const published: FiredCommand[] = [];
  /** The scheduler processes: each test leaves the roles for the next. */
  let leader: ServiceProcess;
  let standby: ServiceProcess;

  /** Due times (ms) of the published commands of one schedule, oldest first. */
  const dues = (schedule: string, after = -Infinity): number[] =>
    published
      .filter((p) => p.schedule === schedule && p.dueMs > after)
      .map((p) => p.dueMs)
      .sort((x, y) => x - y);
  const newestDue = (schedule: string): number => Math.max(-Infinity, ...dues(schedule));
  const firedLines = (process: ServiceProcess, schedule: string): LogLine[] =>
    process.lines.filter((l) => l.msg === 'schedule fired' && l.schedule === schedule);
  /** The first log line `msg` a process writes at or after `since` (ms). */
  const waitForLogSince = (process: ServiceProcess, msg: string, since: number): Promise<LogLine> =>
    waitFor(() => process.lines.find((l) => l.msg === msg && Number(l.time) >= since), {
      timeoutMs: 10_000,
      message: `${process.name} ${process.pid} logs "${msg}"`,
    });
  /** `from` and the whole seconds after it that are before `to`, in ms. */
  const secondsBetween = (from: number, to: number): number[] =>
    Array.from(
      { length: Math.max(0, Math.ceil((to - from) / SECOND)) },
      (_, i) => from + i * SECOND,
    );
  const waitForDue = (schedule: string, dueMs: number, timeoutMs: number): Promise<boolean> =>
    waitFor(() => newestDue(schedule) >= dueMs, {
      timeoutMs,
      intervalMs: 50,
      message: `${schedule} fires the due time ${new Date(dueMs).toISOString()}`,
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scheduler-system-'));
    const file = join(dir, 'schedules.yaml');
    await writeFile(file, SCHEDULES_YAML);
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'report-worker'],
      env: {
        SCHEDULES_FILE: file,
        SCHEDULER_TICK_MS: String(TICK_MS),
        SCHEDULER_LEASE_MS: String(LEASE_MS),
      },
    });
    recording = await recordFiredCommands(platform.ns, DATA_PROCESS, published);
  }, 60_000);

  afterAll(async () => {
    await recording?.stop();
    await platform?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('fires each second exactly once while two scheduler processes run for 30 s', async () => {
    const first = await platform.startService('scheduler');
    await first.waitForLog('scheduler leads', { timeoutMs: 10_000 });
    const second = await platform.startService('scheduler');
    [leader, standby] = [first, second];
    const start = Math.ceil(Date.now() / SECOND) * SECOND + SECOND;
    const end = start + 30 * SECOND;

    // One due time past the window, so any late duplicate inside it has arrived.
    await waitForDue('tick-latest', end + SECOND, 40_000);
    await waitForDue('tick-none', end + SECOND, 5_000);

    const window = secondsBetween(start, end);
    expect(window).toHaveLength(30);
    for (const schedule of ['tick-latest', 'tick-none']) {
      const inWindow = dues(schedule).filter((d) => d >= start && d < end);
      expect(inWindow).toEqual(window);
    }
    expect(first.running && second.running).toBe(true);
    expect(second.lines.filter((l) => l.msg === 'scheduler leads')).toHaveLength(0);
    expect(firedLines(second, 'tick-latest')).toHaveLength(0);
    // The leader's log agrees with what reached the broker.
    const logged = firedLines(first, 'tick-latest').map((l) => Date.parse(String(l.due_at)));
    expect(logged.filter((d) => d >= start && d < end)).toEqual(window);
  }, 60_000);

  it('fences a leader paused past its lease: the standby takes over, the woken one fires nothing', async () => {
    const paused = leader;
    const pausedAt = Date.now();
    process.kill(paused.pid, 'SIGSTOP');
    let leadsAt: number;
    try {
      leadsAt = Number((await waitForLogSince(standby, 'scheduler leads', pausedAt)).time);
      [leader, standby] = [standby, paused];
      await waitForDue('tick-latest', leadsAt + SECOND, 5_000);
    } finally {
      process.kill(paused.pid, 'SIGCONT');
    }
    const resumedAt = Date.now();
    await waitForLogSince(paused, 'scheduler stands by', resumedAt - SECOND);
    const newLeader = leader;
    await waitForDue('tick-latest', resumedAt + 2 * SECOND, 10_000);
    await waitForDue('tick-none', resumedAt + 2 * SECOND, 5_000);

    expect(leadsAt - pausedAt).toBeLessThanOrEqual(LEASE_MS + 2 * TICK_MS);
    for (const schedule of ['tick-latest', 'tick-none']) {
      // Every due time the paused process fired was computed before the pause.
      const byPaused = firedLines(paused, schedule).map((l) => Date.parse(String(l.due_at)));
      expect(Math.max(...byPaused)).toBeLessThanOrEqual(pausedAt);
      const all = dues(schedule);
      expect(new Set(all).size).toBe(all.length);
    }
    expect(paused.running && newLeader.running).toBe(true);
    process.stdout.write(
      `scheduler pause: ${JSON.stringify({ handoverMs: leadsAt - pausedAt })}\n`,
    );
  }, 30_000);

  it('hands over within 5 s of a SIGKILL of the leader, firing no tick twice', async () => {
    const killedAt = Date.now();
    await leader.stop('SIGKILL');
    const leadsAt = Number((await waitForLogSince(standby, 'scheduler leads', killedAt)).time);
    const newLeader = standby;
    leader = standby;
    await waitForDue('tick-latest', leadsAt + 2 * SECOND, 10_000);
    await waitForDue('tick-none', leadsAt + 2 * SECOND, 5_000);

    const handoverMs = leadsAt - killedAt;
    expect(handoverMs).toBeLessThanOrEqual(5000);
    for (const schedule of ['tick-latest', 'tick-none']) {
      const all = dues(schedule);
      expect(new Set(all).size).toBe(all.length);
    }
    // The new leader's first due time, and the newest one published before it.
    const report: Record<string, unknown> = { handoverMs };
    for (const schedule of ['tick-latest', 'tick-none']) {
      const firstByStandby = Math.min(
        ...firedLines(newLeader, schedule)
          .filter((l) => Number(l.time) >= leadsAt)
          .map((l) => Date.parse(String(l.due_at))),
      );
      const lastBefore = Math.max(...dues(schedule).filter((d) => d < firstByStandby));
      const missed = (firstByStandby - lastBefore) / SECOND - 1;
      // Due times already past the on-time window when the standby took over (an upper bound:
      // its tick reads the clock right after logging 'scheduler leads').
      const late = secondsBetween(lastBefore + SECOND, leadsAt + TICK_MS - GRACE_MS + 1).length;
      const allowed = schedule === 'tick-latest' ? Math.max(0, late - 1) : late;
      expect(missed).toBeLessThanOrEqual(allowed);
      // From its first firing on, the new leader leaves no gap.
      const after = dues(schedule, firstByStandby - 1);
      expect(after).toEqual(secondsBetween(firstByStandby, newestDue(schedule) + SECOND));
      report[schedule] = { missed, allowed };
    }
    process.stdout.write(`scheduler failover: ${JSON.stringify(report)}\n`);
  }, 30_000);

  it('fires one catch-up run for the gap under latest and none under none after a restart', async () => {
    await leader.stop('SIGTERM');
    const stoppedAt = Date.now();
    const lastLatest = newestDue('tick-latest');
    const lastNone = newestDue('tick-none');
    const countAtStop = published.length;

    // Down for longer than the on-time window, so due times are missed.
    await waitFor(() => Date.now() >= stoppedAt + GRACE_MS + 2 * SECOND, {
      timeoutMs: GRACE_MS + 4 * SECOND,
      message: 'the on-time window and 2 s pass without a scheduler',
    });
    expect(published.length).toBe(countAtStop);
    const restarted = await platform.startService('scheduler');
    leader = restarted;
    const leads = await restarted.waitForLog('scheduler leads', { timeoutMs: 10_000 });
    const leadsAt = Number(leads.time);
    await waitForDue('tick-latest', leadsAt + 2 * SECOND, 10_000);
    await waitForDue('tick-none', leadsAt + 2 * SECOND, 5_000);

    const latest = dues('tick-latest', lastLatest);
    const none = dues('tick-none', lastNone);
    const firstOnTime = none[0] as number;
    // none: the first firing after the restart is on time, and the gap before it is skipped.
    expect(leadsAt - firstOnTime).toBeLessThanOrEqual(GRACE_MS + TICK_MS);
    const skipped = secondsBetween(lastNone + SECOND, firstOnTime);
    expect(skipped.length).toBeGreaterThanOrEqual(2);
    // latest: exactly one run for the gap, the newest missed due time, then the same on-time
    // due times as none (both schedules are evaluated in the same tick).
    const gapLatest = latest.filter((d) => d < firstOnTime);
    expect(gapLatest).toEqual([firstOnTime - SECOND]);
    expect(latest.filter((d) => d >= firstOnTime)).toEqual(none);
    expect(none).toEqual(secondsBetween(firstOnTime, newestDue('tick-none') + SECOND));
    expect(lastLatest).toBeLessThan(firstOnTime - 2 * SECOND);
    process.stdout.write(
      `scheduler restart: ${JSON.stringify({ missed: skipped.length, latestCatchUpRuns: gapLatest.length })}\n`,
    );
  }, 40_000);

  it('lists the schedules with their next and last runs through GET /schedules', async () => {
    const response = await platform.request('GET', '/schedules');

    expect(response.status).toBe(200);
    const { schedules } = response.body as { schedules: Record<string, unknown>[] };
    expect(schedules.map((s) => s.name).sort()).toEqual(['cleanup', 'tick-latest', 'tick-none']);
    const tick = schedules.find((s) => s.name === 'tick-latest') as Record<string, unknown>;
    expect(tick).toMatchObject({
      task: DATA_PROCESS,
      every: '1s',
      timezone: 'UTC',
      enabled: true,
      catch_up: 'latest',
    });
    const taskIds = new Set(
      published.filter((p) => p.schedule === 'tick-latest').map((p) => p.taskId),
    );
    expect(taskIds.has(String(tick.last_task_id))).toBe(true);
    const lastRun = Date.parse(String(tick.last_run_at));
    const nextRun = Date.parse(String(tick.next_run_at));
    expect(Date.now() - lastRun).toBeLessThan(5 * SECOND);
    expect(nextRun % SECOND).toBe(0);
    expect(nextRun - Date.now()).toBeLessThan(3 * SECOND);
    expect(Date.parse(String(tick.last_due_at)) % SECOND).toBe(0);
    const cleanup = schedules.find((s) => s.name === 'cleanup') as Record<string, unknown>;
    expect(cleanup).toMatchObject({
      task: 'task.maintenance.cleanup',
      cron: '0 * * * *',
      timezone: 'Europe/Kyiv',
      enabled: false,
      last_run_at: null,
      last_task_id: null,
    });
    expect(String(cleanup.next_run_at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/);
  });

  it('stops the firings of a schedule disabled by PATCH /schedules/{name}, and keeps it disabled', async () => {
    const response = await platform.request('PATCH', '/schedules/tick-none', { enabled: false });
    const patchedAt = Date.now();

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ name: 'tick-none', enabled: false });
    // Three more seconds of the other schedule; the scheduler republishes its definitions (with
    // the file's enabled: true) every tick meanwhile.
    await waitForDue('tick-latest', patchedAt + 3 * SECOND, 10_000);
    // A tick already running when the PATCH landed may fire a due time up to then, never later.
    expect(newestDue('tick-none')).toBeLessThanOrEqual(patchedAt);
    const after = await platform.request('GET', '/schedules');
    const views = (after.body as { schedules: { name: string; enabled: boolean }[] }).schedules;
    expect(views.find((s) => s.name === 'tick-none')?.enabled).toBe(false);
    expect(views.find((s) => s.name === 'tick-latest')?.enabled).toBe(true);
  }, 20_000);

  it('answers 404 for an unknown schedule and 422 for a bad PATCH body', async () => {
    expect((await platform.request('POST', '/schedules/no-such/run')).status).toBe(404);
    expect((await platform.request('PATCH', '/schedules/no-such', { enabled: true })).status).toBe(
      404,
    );
    expect(
      (await platform.request('PATCH', '/schedules/tick-none', { enabled: 'no' })).status,
    ).toBe(422);
  });

  it('runs the cleanup schedule on demand, deleting exactly the expired items and counting them', async () => {
    const now = Date.now();
    const old = new Date(now - 30 * DAY_MS);
    // Report files: REPORT_RETENTION_DAYS is 7 by default.
    const reportsDir = join(platform.workDir, 'reports');
    await mkdir(reportsDir, { recursive: true });
    const files: Record<string, Date> = {
      'old-1.csv': old,
      'old-2.pdf': old,
      'recent.csv': new Date(now - DAY_MS),
      'notes.txt': old, // not a report file: kept whatever its age
    };
    for (const [name, mtime] of Object.entries(files)) {
      await writeFile(join(reportsDir, name), 'x');
      await utimes(join(reportsDir, name), mtime, mtime);
    }
    // Worker registry: WORKER_REGISTRY_RETENTION_MS is 1 h by default.
    const redis = platform.ns.redis;
    const keys = new RedisKeys(platform.ns.redisPrefix);
    const registry = new WorkerRegistry(redis, platform.ns.redisPrefix);
    const heartbeat = (worker: string, at: Date) => ({
      worker,
      service: 'email-worker',
      hostname: 'gone',
      pid: 1,
      task_types: ['task.email.send'],
      at: at.toISOString(),
      interval_ms: 500,
      active: [],
      reserved: [],
      processed: 0,
      concurrency: 1,
    });
    await registry.record(heartbeat('silent-1', new Date(now - 2 * 3_600_000)));
    await registry.record(heartbeat('silent-2', old));
    await registry.record(heartbeat('quiet-but-recent', new Date(now - 60_000)));
    const workersBefore = Object.keys(await redis.hgetall(keys.workers));
    // Dead letters: DEAD_LETTER_RETENTION_DAYS is 14 by default.
    const deadLetters = new DeadLetterStore(redis, platform.ns.redisPrefix);
    const parked = (taskId: string, at: Date) => ({
      task_id: taskId,
      service: 'email-worker',
      type: 'task.email.send',
      reason: 'poison',
      parked_at: at.toISOString(),
      parked_by: 'test',
      attempt: 1,
      priority: 0,
      content: '{}',
      headers: {},
    });
    for (const id of ['dead-old-1', 'dead-old-2', 'dead-old-3'])
      await deadLetters.record(parked(id, old));
    await deadLetters.record(parked('dead-recent', new Date(now - 2 * DAY_MS)));

    const response = await platform.request('POST', '/schedules/cleanup/run');

    expect(response.status).toBe(202);
    const { task_id: taskId } = response.body as { task_id: string; schedule: string };
    expect(response.body).toMatchObject({ schedule: 'cleanup', status: 'queued' });
    const task = await platform.waitForTask(taskId, 'SUCCESS');
    expect(task.result).toMatchObject({
      status: 'completed',
      reports_removed: 2,
      workers_removed: 2,
      dead_letters_removed: 3,
      cleaned_records: 7,
    });
    expect((await readdir(reportsDir)).sort()).toEqual(['notes.txt', 'recent.csv']);
    const workersAfter = Object.keys(await redis.hgetall(keys.workers)).sort();
    expect(workersAfter).toEqual(
      workersBefore.filter((w) => w !== 'silent-1' && w !== 'silent-2').sort(),
    );
    expect(workersAfter).toContain('quiet-but-recent');
    const remaining = await deadLetters.list();
    expect(remaining.items.map((d) => d.task_id)).toEqual(['dead-recent']);
    expect(remaining.total).toBe(1);
    // The manual run is recorded on the schedule.
    const views = (await platform.request('GET', '/schedules')).body as {
      schedules: Record<string, unknown>[];
    };
    expect(views.schedules.find((s) => s.name === 'cleanup')).toMatchObject({
      last_task_id: taskId,
      last_due_at: null,
    });
  }, 30_000);
});

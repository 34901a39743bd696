/**
 * The dashboard's workers, queues and dead-letters views in Chromium against the whole
 * platform: workers listed live with their running tasks, a service paused (its new tasks stay
 * PENDING) and resumed, its concurrency set and a replica drained, each with a click; queues with
 * ready, unacked, consumers and rates; dead letters replayed in bulk. Screenshots of each view.
 */
import { randomUUID } from 'node:crypto';
import { TASK_TYPES, type WorkersResponse } from '@tasks/contracts';
import { waitFor } from '@tasks/runtime/testing';
import { dashboardSuite } from '../support/dashboard-suite';
import { parkCommand } from '../support/dead-letter-fixtures';

const SERVICE = 'processing-worker';

describe('dashboard: workers, queues and dead letters', () => {
  const suite = dashboardSuite({
    platform: {
      services: ['gateway', 'status-store', 'email-worker'],
      // Tasks of about 4 s, so the workers view shows them running.
      env: { SERIES_INTERVAL_MS: '1000', PROCESS_STEPS: '10', PROCESS_STEP_MS: '400' },
    },
    view: 'workers',
    beforeOpen: async (platform) => {
      // Two processing replicas with known names: one to drain, one that stays.
      await platform.startService(SERVICE, { WORKER_NAME: 'proc-a' });
      await platform.startService(SERVICE, { WORKER_NAME: 'proc-b' });
    },
  });

  const workers = async (): Promise<WorkersResponse> =>
    (await suite.platform.request('GET', '/workers')).body as WorkersResponse;

  const instanceOf = async (name: string): Promise<string> =>
    waitFor(
      async () => (await workers()).workers.find((w) => w.instance.includes(name))?.instance,
      {
        timeoutMs: 10_000,
        message: `${name} is listed`,
      },
    );

  it('lists the workers live with the tasks they run', async () => {
    const { page } = suite.dashboard;
    await waitFor(
      async () =>
        (await page.$$('#workers tr[data-worker] .state[data-status="online"]')).length >= 3,
      { timeoutMs: 15_000, message: 'three workers show online' },
    );
    const id = await suite.platform.submit('process', { data: { records: 2 } });
    await page.waitForSelector(`#workers a.chip[href="#/task/${id}"]`, { timeout: 10_000 });
    await suite.platform.waitForTask(id, 'SUCCESS', 20_000);
    await page.waitForSelector(`#workers a.chip[href="#/task/${id}"]`, {
      state: 'detached',
      timeout: 10_000,
    });
    await suite.dashboard.screenshot('dashboard-workers');
  }, 45_000);

  it('pauses a service so its tasks wait, and resumes it', async () => {
    const { page } = suite.dashboard;
    const row = `#services tr[data-service="${SERVICE}"]`;
    await page.click(`${row} button[data-action="pause"]`);
    await page.waitForSelector(`${row} .state[data-status="paused"]`, { timeout: 10_000 });
    await waitFor(
      async () =>
        (await workers()).workers.filter((w) => w.service === SERVICE && w.online && w.paused)
          .length === 2,
      { timeoutMs: 10_000, message: 'both replicas paused' },
    );
    const id = await suite.platform.submit('process', { data: { records: 1 } });
    // Long enough for it to have run; it must read PENDING at every look.
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      expect((await suite.platform.task(id)).status).toBe('PENDING');
      await page.waitForSelector(`${row} .state[data-status="paused"]`);
    }
    await page.waitForSelector(`#workers tr[data-worker*="proc-a"] .state[data-status="paused"]`);

    // By keyboard: the focused Resume button is pressed with Enter.
    await page.focus(`${row} button[data-action="resume"]`);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`${row} .state[data-status="running"]`, { timeout: 10_000 });
    await suite.platform.waitForTask(id, 'SUCCESS', 20_000);
  }, 45_000);

  it("sets a service's concurrency", async () => {
    const { page } = suite.dashboard;
    const row = `#services tr[data-service="${SERVICE}"]`;
    await page.fill(`${row} input`, '3');
    await page.press(`${row} input`, 'Enter');
    await suite.dashboard.statusLine(/concurrency set to 3/);
    await waitFor(
      async () =>
        (await workers()).workers.filter(
          (w) => w.service === SERVICE && w.online && w.concurrency === 3,
        ).length === 2,
      { timeoutMs: 10_000, message: 'both replicas run 3 at once' },
    );
    expect(await page.inputValue(`${row} input`)).toBe('3');
  }, 30_000);

  it('drains one replica, which exits while the other keeps serving', async () => {
    const { page } = suite.dashboard;
    const instance = await instanceOf('proc-a');
    await page.click(`#workers tr[data-worker="${instance}"] button[data-action="drain"]`);
    await suite.dashboard.statusLine(/draining/);
    await page.waitForSelector(
      `#workers tr[data-worker="${instance}"] .state:is([data-status="offline"], [data-status="draining"])`,
      { timeout: 15_000 },
    );
    await waitFor(() => Promise.resolve(suite.platform.running(SERVICE).length === 1), {
      timeoutMs: 20_000,
      message: 'the drained replica exits',
    });
    const id = await suite.platform.submit('process', { data: { records: 1 } });
    await suite.platform.waitForTask(id, 'SUCCESS', 20_000);
  }, 45_000);

  it('shows each queue with ready, unacked, consumers and rates', async () => {
    const { page } = suite.dashboard;
    await suite.dashboard.go('queues');
    const workQueue = suite.platform.ns.names.workQueue(SERVICE);
    await page.waitForSelector(`#queues tr[data-queue="${workQueue}"]`, { timeout: 10_000 });
    const ids = await Promise.all(
      Array.from({ length: 6 }, () => suite.platform.submit('process', { data: { records: 1 } })),
    );
    // The worker holds up to its concurrency (3) unacked; the rest wait ready.
    await waitFor(
      async () =>
        Number(
          await page.textContent(`#queues tr[data-queue="${workQueue}"] [data-field="unacked"]`),
        ) > 0,
      { timeoutMs: 10_000, message: 'unacked deliveries shown' },
    );
    await Promise.all(ids.map((id) => suite.platform.waitForTask(id, 'SUCCESS', 30_000)));
    await waitFor(
      async () =>
        Number(
          await page.textContent(`#queues tr[data-queue="${workQueue}"] [data-field="done-rate"]`),
        ) > 0,
      { timeoutMs: 15_000, message: 'a done rate shown' },
    );
    expect(
      await page.textContent(`#queues tr[data-queue="${workQueue}"] [data-field="consumers"]`),
    ).not.toBe('0');
    await suite.dashboard.screenshot('dashboard-queues');
  }, 60_000);

  it('replays selected dead letters together', async () => {
    const { page } = suite.dashboard;
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) {
      await parkCommand(suite.platform, TASK_TYPES.process, id, { data: { records: 1 } });
    }
    await suite.dashboard.go('dead-letters');
    await page.waitForSelector(`#dead-letters tr[data-task-id="${ids[2]}"]`, { timeout: 10_000 });
    await suite.dashboard.screenshot('dashboard-dead-letters');
    // Two ticked one by one (keyboard: space on a focused checkbox), then all.
    await page.focus(`#dead-letters input[data-task-id="${ids[0]}"]`);
    await page.keyboard.press('Space');
    await page.check(`#dead-letters input[data-task-id="${ids[1]}"]`);
    await page.check('#dead-select-all');
    await page.click('#dead-replay-selected');
    await suite.dashboard.statusLine(/replayed 3 of 3/);
    await page.waitForSelector('#dead-letters tbody tr', { state: 'detached', timeout: 10_000 });
    await Promise.all(ids.map((id) => suite.platform.waitForTask(id, 'SUCCESS', 20_000)));
  }, 45_000);
});

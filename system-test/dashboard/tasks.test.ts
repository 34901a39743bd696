/**
 * The dashboard's tasks and task-detail views in Chromium against the whole platform: the page
 * and Chart.js are served under a strict Content-Security-Policy; the history list filters by
 * state and type, searches by id prefix, pages with the server's cursor and follows tasks in
 * flight live over their event streams; a task's detail shows its timeline, payload, result and
 * error, and cancels, replays (its dead letter) and runs it again; nothing a task carries becomes
 * markup. Screenshots of both views.
 */
import { randomUUID } from 'node:crypto';
import type { Request } from 'playwright-core';
import { TASK_TYPES } from '@tasks/contracts';
import { waitFor } from '@tasks/runtime/testing';
import { dashboardSuite } from '../support/dashboard-suite';
import { parkCommand } from '../support/dead-letter-fixtures';

describe('dashboard: tasks and task detail', () => {
  const suite = dashboardSuite({
    platform: {
      services: ['gateway', 'status-store', 'processing-worker', 'email-worker'],
      // An e-mail fails its two attempts (then FAILURE); a third, replayed, is sent.
      env: {
        PROCESS_STEPS: '20',
        PROCESS_STEP_MS: '250',
        MAX_RETRIES: '1',
        EMAIL_FAIL_FIRST_ATTEMPTS: '2',
      },
    },
    view: 'tasks',
  });

  const mail = { email: 'a@example.com', subject: 'Hi', body: 'from the tasks view test' };
  const rowIds = () =>
    suite.dashboard.page.$$eval('#tasks tbody tr.task', (rows) =>
      rows.map((row) => row.getAttribute('data-task-id') ?? ''),
    );
  const waitForRow = (taskId: string, status: string, timeoutMs = 20_000) =>
    suite.dashboard.page.waitForSelector(
      `#tasks tr[data-task-id="${taskId}"][data-status="${status}"]`,
      { timeout: timeoutMs },
    );
  const submitFromPage = async (body: unknown): Promise<string> => {
    await suite.dashboard.page.selectOption('#submit-type', 'process');
    await suite.dashboard.page.fill('#submit-body', JSON.stringify(body));
    await suite.dashboard.page.click('#submit-button');
    const line = await suite.dashboard.statusLine(/queued \S+/);
    return /queued (\S+)/.exec(line)?.[1] ?? '';
  };

  beforeAll(async () => {
    // Set once: still there at the end means the page was never reloaded.
    await suite.dashboard.page.evaluate(() => Object.assign(globalThis, { loadedOnce: true }));
  });

  it('serves the page and Chart.js with a policy that allows only its own origin', async () => {
    for (const path of ['/dashboard', '/dashboard/vendor/chart.umd.min.js', '/dashboard/app.js']) {
      const response = await fetch(`${suite.platform.baseUrl}${path}`);
      expect(response.status).toBe(200);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
    }
    const chart = await fetch(`${suite.platform.baseUrl}/dashboard/vendor/chart.umd.min.js`);
    expect(chart.headers.get('content-type')).toMatch(/javascript/);
    expect(await chart.text()).toContain('Chart');
    expect((await fetch(`${suite.platform.baseUrl}/dashboard/vendor/chart.js`)).status).toBe(404);
  });

  it('shows a task submitted from the page go from PENDING to SUCCESS live', async () => {
    // A second's countdown, so the list shows it waiting before it runs.
    const id = await submitFromPage({ data: { records: 3 }, countdown: 1 });
    await waitForRow(id, 'PENDING', 5_000);
    const row = await waitForRow(id, 'SUCCESS');
    expect(await row.$eval('.state', (node) => node.textContent)).toBe('SUCCESS');
    expect(
      await suite.dashboard.page.evaluate(
        () => (globalThis as { loadedOnce?: boolean }).loadedOnce,
      ),
    ).toBe(true);
  }, 30_000);

  it('filters by state and type, searches by id prefix and pages with the cursor', async () => {
    const { page } = suite.dashboard;
    const failed = await suite.platform.submit('email', mail);
    const many = await Promise.all(
      Array.from({ length: 27 }, (_, i) =>
        suite.platform.submit('process', { data: { records: i % 3 } }),
      ),
    );
    await suite.platform.waitForTask(failed, 'FAILURE');
    await Promise.all(many.map((id) => suite.platform.waitForTask(id, 'SUCCESS', 30_000)));

    await page.selectOption('#filter-state', 'FAILURE');
    await waitFor(async () => (await rowIds()).join() === failed, {
      timeoutMs: 10_000,
      message: 'only the failed task is listed',
    });
    expect(await page.textContent(`#tasks tr[data-task-id="${failed}"]`)).toContain(
      'simulated transient provider error',
    );

    await page.selectOption('#filter-state', 'SUCCESS');
    await page.selectOption('#filter-type', 'task.data.process');
    await waitFor(async () => (await rowIds()).length === 25, {
      timeoutMs: 10_000,
      message: 'a first page of 25',
    });
    const first = await rowIds();
    await page.click('#tasks-next');
    await page.waitForSelector('#tasks-page:text("page 2")');
    await waitFor(async () => (await rowIds())[0] !== first[0], {
      timeoutMs: 10_000,
      message: 'the second page',
    });
    const second = await rowIds();
    expect(second.length).toBeGreaterThanOrEqual(3); // 27 + the earlier test's, 25 a page
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    await page.click('#tasks-prev');
    await waitFor(async () => (await rowIds()).join() === first.join(), {
      timeoutMs: 10_000,
      message: 'back on the first page',
    });

    const target = many[5] ?? '';
    await page.fill('#filter-q', target.slice(0, 12));
    await page.press('#filter-q', 'Enter');
    await waitFor(async () => (await rowIds()).join() === target, {
      timeoutMs: 10_000,
      message: 'the search finds the one task',
    });
    await page.fill('#filter-q', '');
    await page.selectOption('#filter-type', '');
    await page.selectOption('#filter-state', '');
    await waitFor(async () => (await rowIds()).length === 25, {
      timeoutMs: 10_000,
      message: 'a full first page again',
    });
    await suite.dashboard.screenshot('dashboard-tasks');
  }, 60_000);

  it('cancels a running task from the list', async () => {
    const id = await submitFromPage({ data: { records: 3 } });
    await suite.dashboard.page.waitForSelector(
      `#tasks tr[data-task-id="${id}"]:is([data-status="STARTED"], [data-status="PROGRESS"])`,
      { timeout: 20_000 },
    );
    await suite.dashboard.page.click(
      `#tasks tr[data-task-id="${id}"] button[data-action="cancel"]`,
    );
    await waitForRow(id, 'REVOKED', 10_000);
    expect((await suite.platform.task(id)).status).toBe('REVOKED');
  }, 30_000);

  it("shows a task's timeline, payload and result, and runs it again", async () => {
    const { page } = suite.dashboard;
    const body = { data: { records: 2 }, description: 'detail view' };
    const id = await submitFromPage(body);
    await waitForRow(id, 'SUCCESS');
    // By keyboard: the row's link opens the detail.
    await page.focus(`#tasks tr[data-task-id="${id}"] a`);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`#detail-id:text("${id}")`);
    await page.waitForSelector('#detail-timeline li[data-state="SUCCESS"]');
    const timeline = await page.$$eval('#detail-timeline li', (items) =>
      items.map((item) => item.getAttribute('data-state')),
    );
    expect(timeline[0]).toBe('PENDING');
    expect(timeline).toContain('STARTED');
    expect(timeline.at(-1)).toBe('SUCCESS');
    expect(JSON.parse((await page.textContent('#detail-payload')) ?? '')).toEqual(body);
    expect(await page.textContent('#detail-result')).toContain('"records_processed"');
    expect(await page.isHidden('#detail-cancel')).toBe(true);
    await suite.dashboard.screenshot('dashboard-task');

    await page.click('#detail-again');
    await page.waitForSelector('#view-tasks:not([hidden])');
    expect(JSON.parse(await page.inputValue('#submit-body'))).toEqual(body);
    expect(
      await page.$eval('#submit-body', (node) => node === node.ownerDocument.activeElement),
    ).toBe(true);
    await page.click('#submit-button');
    const again = /queued (\S+)/.exec(await suite.dashboard.statusLine(/queued \S+/))?.[1] ?? '';
    expect(again).not.toBe(id);
    await waitForRow(again, 'SUCCESS');
  }, 45_000);

  it('cancels a running task from its detail', async () => {
    const id = await submitFromPage({ data: { records: 3 } });
    await suite.dashboard.page.goto(`${suite.platform.baseUrl}/dashboard#/task/${id}`);
    await suite.dashboard.page.waitForSelector(
      '#detail-facts .state:is([data-status="STARTED"], [data-status="PROGRESS"])',
      { timeout: 20_000 },
    );
    await suite.dashboard.page.click('#detail-cancel');
    await suite.dashboard.page.waitForSelector('#detail-facts .state[data-status="REVOKED"]', {
      timeout: 10_000,
    });
    expect((await suite.platform.task(id)).status).toBe('REVOKED');
  }, 30_000);

  it('replays the dead letter of a failed task from its detail', async () => {
    const { page } = suite.dashboard;
    const id = await suite.platform.submit('email', mail);
    await suite.platform.waitForTask(id, 'FAILURE');
    // Its command parked, as a worker does after a crash loop.
    await parkCommand(suite.platform, TASK_TYPES.email, id, mail);
    await page.goto(`${suite.platform.baseUrl}/dashboard#/task/${id}`);
    await page.waitForSelector('#detail-facts .state[data-status="FAILURE"]');
    expect(await page.textContent('#detail-failure')).toContain('simulated transient');
    await page.click('#detail-replay');
    await suite.dashboard.statusLine(/replayed .* \(attempt 3\)/);
    await page.waitForSelector('#detail-facts .state[data-status="SUCCESS"]', { timeout: 20_000 });
    const timeline = await page.$$eval('#detail-timeline li', (items) =>
      items.map((item) => item.getAttribute('data-state')),
    );
    expect(timeline).toContain('FAILURE');
    expect(timeline.at(-1)).toBe('SUCCESS');
  }, 45_000);

  it('writes what it shows as text, never as markup', async () => {
    const { page } = suite.dashboard;
    const hostile = `<img src=x onerror="window.injected=1">${randomUUID()}`;
    await page.goto(`${suite.platform.baseUrl}/dashboard#/tasks`);
    await page.fill('#open-id', hostile);
    await page.press('#open-id', 'Enter');
    await page.waitForSelector('#detail-error:text("unknown task id")', { timeout: 10_000 });
    expect(await page.textContent('#detail-id')).toBe(hostile);
    expect(await page.$$('#view-task img')).toHaveLength(0);
    expect(
      await page.evaluate(() => (globalThis as { injected?: number }).injected),
    ).toBeUndefined();
  }, 20_000);

  /**
   * Shows `hash`, holds its next read matching `read` until the workers view is shown, and
   * expects no task stream to open after it nor to stay open from before.
   */
  async function leaveWhileReading(hash: string, read: RegExp): Promise<void> {
    const { page } = suite.dashboard;
    const isStream = (request: Request) => request.url().endsWith('/events');
    const open = new Set<Request>();
    const opened = (request: Request) => isStream(request) && open.add(request);
    const ended = (request: Request) => open.delete(request);
    page.on('request', opened);
    page.on('requestfinished', ended);
    page.on('requestfailed', ended);
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    await page.route(read, async (route) => {
      await released;
      await route.continue();
    });
    try {
      const held = page.waitForRequest(read, { timeout: 10_000 });
      await page.goto(`${suite.platform.baseUrl}/dashboard${hash}`);
      await held;
      await suite.dashboard.go('workers');
      const streamOpened = page.waitForRequest(isStream, { timeout: 3_000 }).then(
        (request) => request.url(),
        () => null,
      );
      const answered = page.waitForResponse(read, { timeout: 10_000 });
      release();
      await answered;
      expect(await streamOpened).toBeNull();
      await waitFor(() => open.size === 0, {
        timeoutMs: 5_000,
        message: `the streams opened by ${hash} closed`,
      });
    } finally {
      release();
      await page.unroute(read);
      page.off('request', opened);
      page.off('requestfinished', ended);
      page.off('requestfailed', ended);
    }
  }

  it('opens no stream for a list read that answers after another view is shown', async () => {
    const waiting = await suite.platform.submit('process', { data: { records: 1 }, countdown: 60 });
    await suite.dashboard.page.goto(`${suite.platform.baseUrl}/dashboard#/tasks`);
    await waitForRow(waiting, 'PENDING', 10_000);
    await leaveWhileReading('#/tasks', /\/tasks\?/);
  }, 40_000);

  it("opens no stream for a task's read that answers after another view is shown", async () => {
    const waiting = await suite.platform.submit('process', { data: { records: 1 }, countdown: 60 });
    await leaveWhileReading(`#/task/${waiting}`, new RegExp(`/tasks/${waiting}$`));
  }, 40_000);
});

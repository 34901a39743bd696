/**
 * The dashboard in a real browser (playwright-core driving Debian's Chromium) against the whole
 * platform: a task submitted from the page goes PENDING → SUCCESS on screen without a reload, a
 * running task is cancelled with a click, a schedule is fired, nothing a task carries becomes
 * markup, and the page is saved as a screenshot (with UPDATE_DOCS=1 as docs/images/dashboard.png
 * for the README; otherwise in a temporary folder, so a test run leaves the tree clean).
 *
 * Needs /usr/bin/chromium (or CHROMIUM_BIN): `apt-get install -y --no-install-recommends chromium`.
 * Without it the suite fails and says so; it never skips.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_PROCESS } from '@tasks/contracts';
import { waitFor } from '@tasks/runtime/testing';
import { type Browser, chromium, type Page } from 'playwright-core';
import { gatewayConnected } from './support/probes';
import { REPO_ROOT } from './support/service-process';
import { TestPlatform } from './support/test-platform';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const SCREENSHOT_DIR = process.env.UPDATE_DOCS
  ? join(REPO_ROOT, 'docs', 'images')
  : mkdtempSync(join(tmpdir(), 'dashboard-'));
const SCREENSHOT = join(SCREENSHOT_DIR, 'dashboard.png');

describe('dashboard', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let page: Page;

  /** The status a task's row shows, once it shows `status` (or throws after the timeout). */
  const waitForRow = (taskId: string, status: string, timeoutMs = 20_000) =>
    page.waitForSelector(`#tasks tr[data-task-id="${taskId}"][data-status="${status}"]`, {
      timeout: timeoutMs,
    });
  /** The id of the newest task row. */
  const newestTaskId = async (): Promise<string> => {
    const row = await page.waitForSelector('#tasks tbody tr.task');
    return (await row.getAttribute('data-task-id')) ?? '';
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}. Install it with ` +
          '`apt-get install -y --no-install-recommends chromium` (CI: add chromium to ' +
          'EXTRA_DEBS in .ci/run), or set CHROMIUM_BIN to its path.',
      );
    }
    platform = await TestPlatform.start({ env: { PROCESS_STEPS: '20', PROCESS_STEP_MS: '250' } });
    await gatewayConnected(platform);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(`${platform.baseUrl}/dashboard`);
    // Set once: still there at the end means the page was never reloaded.
    await page.evaluate(() => Object.assign(globalThis, { loadedOnce: true }));
  }, 90_000);

  afterAll(async () => {
    await page?.close();
    await browser?.close();
    await platform?.stop();
    if (!process.env.UPDATE_DOCS) rmSync(SCREENSHOT_DIR, { recursive: true, force: true });
  }, 60_000);

  it('serves the page with a Content-Security-Policy that allows only its own origin', async () => {
    const response = await fetch(`${platform.baseUrl}/dashboard`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const script = await fetch(`${platform.baseUrl}/dashboard/dashboard.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
  });

  it('shows a task submitted from the page go from PENDING to SUCCESS without reloading', async () => {
    await page.selectOption('#submit-type', 'process');
    // A second's countdown, so the page shows it waiting before it runs.
    await page.fill('#submit-body', JSON.stringify({ data: { records: 3 }, countdown: 1 }));
    await page.click('#submit-button');
    const id = await newestTaskId();
    await waitForRow(id, 'PENDING', 5_000);
    const row = await waitForRow(id, 'SUCCESS');

    const history = ((await row.getAttribute('data-history')) ?? '').split(',');
    expect(history[0]).toBe('PENDING');
    expect(history).toContain('STARTED');
    expect(history).toContain('PROGRESS');
    expect(history.at(-1)).toBe('SUCCESS');
    expect(await row.$eval('.state', (node) => node.textContent)).toBe('SUCCESS');
    expect(await page.evaluate(() => (globalThis as { loadedOnce?: boolean }).loadedOnce)).toBe(
      true,
    );
  }, 30_000);

  it('cancels a running task with a click', async () => {
    const before = await page.$$eval('#tasks tbody tr.task', (rows) =>
      rows.map((row) => row.getAttribute('data-task-id')),
    );
    await page.selectOption('#submit-type', 'process');
    await page.fill('#submit-body', JSON.stringify({ data: { records: 3 } }));
    await page.click('#submit-button');
    // The new task's row, not the earlier test's (still listed above or below it).
    const id = await waitFor(
      async () =>
        (
          await page.$$eval('#tasks tbody tr.task', (rows) =>
            rows.map((row) => row.getAttribute('data-task-id')),
          )
        ).find((taskId) => taskId && !before.includes(taskId)),
      { timeoutMs: 10_000, message: 'the new task row appears' },
    );
    // Running = STARTED or PROGRESS; on a loaded machine the row may show either first.
    await page.waitForSelector(
      `#tasks tr[data-task-id="${id}"]:is([data-status="STARTED"], [data-status="PROGRESS"])`,
      { timeout: 20_000 },
    );
    await page.click(`#tasks tr[data-task-id="${id}"] button[data-action="cancel"]`);
    await waitForRow(id, 'REVOKED', 10_000);
    expect((await platform.task(id)).status).toBe('REVOKED');
  }, 30_000);

  it('fires a schedule with a click and follows the task it published', async () => {
    await page.click('#schedules tr[data-schedule="cleanup"] button[data-action="run"]');
    await page.waitForSelector(
      '#tasks tr.task[data-status="SUCCESS"] >> text=task.maintenance.cleanup',
      { timeout: 20_000 },
    );
  }, 30_000);

  it('writes what it shows as text, never as markup', async () => {
    const hostile = '<img src=x onerror="window.injected=1">';
    await page.fill('#follow-id', hostile);
    await page.click('#follow-form button');
    await page.waitForSelector('#tasks tr.task >> text=unknown task id', { timeout: 10_000 });
    expect(await page.$$('#tasks img')).toHaveLength(0);
    expect(
      await page.evaluate(() => (globalThis as { injected?: number }).injected),
    ).toBeUndefined();
    expect(await page.textContent('#tasks')).toContain('<img src');
  }, 20_000);

  it('lists workers, queues, dead letters and schedules, and saves a screenshot', async () => {
    // A poison command, so the dead-letter panel has something to show.
    await platform.ns.publish(
      platform.ns.names.tasksExchange,
      DATA_PROCESS,
      JSON.stringify({ v: 1, task_id: 'demo-poison', type: DATA_PROCESS, payload: {} }),
      { messageId: 'demo-poison', type: DATA_PROCESS, contentType: 'application/json' },
    );
    await page.waitForSelector('#dead-letters tr[data-task-id="demo-poison"]', { timeout: 10_000 });
    await waitFor(
      async () =>
        (await page.$$('#workers tr[data-worker] .state[data-status="online"]')).length >= 3,
      { timeoutMs: 10_000, message: 'three workers show online' },
    );
    const queues = await page.$$eval('#queues tr[data-queue]', (rows) =>
      rows.map((row) => row.getAttribute('data-queue') ?? ''),
    );
    expect(queues).toEqual(
      expect.arrayContaining([platform.ns.names.workQueue('processing-worker')]),
    );
    expect(await page.$$('#schedules tr[data-schedule]')).toHaveLength(2);
    expect(await page.getAttribute('#health', 'data-status')).toBe('healthy');

    // The first task's detail, for the picture.
    await page.click('#tasks tr.task[data-status="SUCCESS"]');
    await page.waitForSelector('#detail-panel:not([hidden])');
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  }, 30_000);
});

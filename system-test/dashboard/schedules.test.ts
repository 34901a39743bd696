/**
 * The dashboard's schedules view in Chromium against the whole platform: a schedule fired with
 * "Run now"; one created from the form that the scheduler fires, then edited, disabled, enabled
 * and deleted, each with a click (or the keyboard); a bad definition answered with the field the
 * API names. A screenshot of the view.
 */
import { waitFor } from '@tasks/runtime/testing';
import { dashboardSuite } from '../support/dashboard-suite';

interface ScheduleView {
  readonly name: string;
  readonly every?: string | number;
  readonly enabled: boolean;
  readonly payload: Record<string, unknown>;
  readonly last_task_id: string | null;
}

describe('dashboard: schedules', () => {
  const suite = dashboardSuite({
    platform: {
      services: ['gateway', 'status-store', 'scheduler', 'processing-worker', 'report-worker'],
    },
    view: 'schedules',
  });

  const schedule = async (name: string): Promise<ScheduleView | undefined> =>
    (
      (await suite.platform.request('GET', '/schedules')).body as { schedules: ScheduleView[] }
    ).schedules.find((s) => s.name === name);
  const row = (name: string) => `#schedules tr[data-schedule="${name}"]`;

  it('fires a schedule with "Run now" and links the task it published', async () => {
    const { page } = suite.dashboard;
    await page.click(`${row('cleanup')} button[data-action="run"]`);
    const line = await suite.dashboard.statusLine(/schedule cleanup fired \S+/);
    const id = /fired (\S+)/.exec(line)?.[1] ?? '';
    await suite.platform.waitForTask(id, 'SUCCESS', 20_000);
  }, 30_000);

  it('creates a schedule from the form, which the scheduler fires', async () => {
    const { page } = suite.dashboard;
    await page.fill('#schedule-name', 'dashboard-every-2s');
    await page.selectOption('#schedule-task', 'task.data.process');
    await page.fill('#schedule-every', '2s');
    await page.fill('#schedule-payload', JSON.stringify({ data: { records: 1 } }));
    await page.click('#schedule-save');
    await suite.dashboard.statusLine(/dashboard-every-2s created/);
    await page.waitForSelector(row('dashboard-every-2s'));
    expect(await page.textContent(row('dashboard-every-2s'))).toContain('every 2s');
    // Fired by the scheduler: its last run becomes a link to the task.
    const link = await page.waitForSelector(`${row('dashboard-every-2s')} a[href^="#/task/"]`, {
      timeout: 20_000,
    });
    const href = (await link.getAttribute('href')) ?? '';
    await suite.platform.waitForTask(
      decodeURIComponent(href.replace('#/task/', '')),
      'SUCCESS',
      20_000,
    );
    await suite.dashboard.screenshot('dashboard-schedules');
  }, 45_000);

  it('edits a schedule in the form', async () => {
    const { page } = suite.dashboard;
    await page.click(`${row('dashboard-every-2s')} button[data-action="edit"]`);
    expect(await page.inputValue('#schedule-name')).toBe('dashboard-every-2s');
    expect(await page.isDisabled('#schedule-name')).toBe(true);
    expect(JSON.parse(await page.inputValue('#schedule-payload'))).toEqual({
      data: { records: 1 },
    });
    await page.fill('#schedule-every', '1h');
    await page.fill('#schedule-payload', JSON.stringify({ data: { records: 2 } }));
    await page.press('#schedule-every', 'Enter');
    await suite.dashboard.statusLine(/dashboard-every-2s saved/);
    await page.waitForSelector(`${row('dashboard-every-2s')} >> text=every 1h`);
    expect(await schedule('dashboard-every-2s')).toMatchObject({
      every: '1h',
      payload: { data: { records: 2 } },
    });
    expect(await page.textContent('#schedule-save')).toBe('Create');
  }, 30_000);

  it('disables and enables a schedule', async () => {
    const { page } = suite.dashboard;
    await page.click(`${row('dashboard-every-2s')} button[data-action="disable"]`);
    await page.waitForSelector(`${row('dashboard-every-2s')}[data-enabled="false"]`);
    expect((await schedule('dashboard-every-2s'))?.enabled).toBe(false);
    await page.focus(`${row('dashboard-every-2s')} button[data-action="enable"]`);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`${row('dashboard-every-2s')}[data-enabled="true"]`);
    expect((await schedule('dashboard-every-2s'))?.enabled).toBe(true);
  }, 30_000);

  it('names the bad field of a refused definition', async () => {
    const { page } = suite.dashboard;
    await page.fill('#schedule-name', 'Bad Name');
    await page.fill('#schedule-every', '2s');
    await page.click('#schedule-save');
    await suite.dashboard.statusLine(/created failed: 422: .*name/);
    expect(await page.$(row('Bad Name'))).toBeNull();
    await page.click('#schedule-reset');
  }, 30_000);

  it('deletes a schedule after confirming', async () => {
    const { page } = suite.dashboard;
    await page.click(`${row('dashboard-every-2s')} button[data-action="delete"]`);
    await suite.dashboard.statusLine(/dashboard-every-2s deleted/);
    await page.waitForSelector(row('dashboard-every-2s'), { state: 'detached' });
    await waitFor(async () => (await schedule('dashboard-every-2s')) === undefined, {
      timeoutMs: 5_000,
      message: 'the schedule is gone from the API',
    });
  }, 30_000);
});

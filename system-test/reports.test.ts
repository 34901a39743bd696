/**
 * Reports end to end: tasks of several types end in several states, then each report
 * type is requested through the gateway, downloaded and read back — CSV rows equal the counts
 * this test created, the PDF parses (pdf.js) with its title and those counts in its text.
 * Yesterday's and a past month's statistics come from state events published with those dates,
 * through the status-store like any worker's. Bad params are 422s naming the field; paths that
 * leave the reports folder are 404.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bucketUpperMs, durationBucket } from '@tasks/runtime';
import { pdfText } from '@tasks/runtime/testing';
import { publishEvents, type RawEvent, waitForStatusStore } from './support/probes';
import { type TaskBody, TestPlatform } from './support/test-platform';

jest.setTimeout(180_000);

const EMAIL = 'task.email.send';
const PROCESS = 'task.data.process';
const REPORT = 'task.report.generate';

interface Downloaded {
  readonly task: TaskBody;
  readonly contentType: string;
  readonly disposition: string;
  readonly bytes: Buffer;
}

/** Rows of a CSV the report worker wrote (its statistics carry no quoted fields here). */
const csvRows = (text: string): string[][] =>
  text
    .split('\r\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split(','));

/** A tasks summary CSV as task type → column → value. */
function byType(rows: string[][]): Record<string, Record<string, string>> {
  const [header = [], ...body] = rows;
  return Object.fromEntries(
    body.map((row) => [row[0], Object.fromEntries(header.map((h, i) => [h, row[i] ?? '']))]),
  );
}

/** GET with the path sent as written (fetch would resolve `..` before sending). */
function rawGet(baseUrl: string, path: string): Promise<{ status: number; body: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const upper = (ms: number): string => String(Math.round(bucketUpperMs(durationBucket(ms))));

describe('reports', () => {
  let platform: TestPlatform;
  const yesterday = isoDay(Date.now() - 86_400_000);
  /** Reports of this test that succeeded so far: a report counts the ones before it. */
  let reportsDone = 0;

  async function report(report_type: string, params: Record<string, unknown>): Promise<Downloaded> {
    const id = await platform.submit('report', { report_type, params });
    const task = await platform.waitForTask(id, 'SUCCESS', 60_000);
    reportsDone += 1;
    const response = await fetch(new URL(String(task.result?.report_url), platform.baseUrl));
    expect(response.status).toBe(200);
    return {
      task,
      contentType: response.headers.get('content-type') ?? '',
      disposition: response.headers.get('content-disposition') ?? '',
      bytes: Buffer.from(await response.arrayBuffer()),
    };
  }

  beforeAll(async () => {
    // No scheduler: its daily report would add to the counts this test checks.
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway', 'email-worker', 'processing-worker', 'report-worker'],
      env: { EMAIL_FAIL_FIRST_ATTEMPTS: '1', PROCESS_STEPS: '3' },
      events: true,
    });

    // Today: 3 e-mails sent on their second attempt (3 retries), 1 revoked while it waited,
    // 2 processing tasks (3 + 4 records), 1 report that fails on a bad date.
    const email = (n: number): Record<string, unknown> => ({
      email: `reader${n}@example.com`,
      subject: `Report test ${n}`,
      body: 'Hello',
    });
    const sent = await Promise.all([1, 2, 3].map((n) => platform.submit('email', email(n))));
    const waiting = await platform.submit('email', { ...email(4), countdown: 60 });
    expect((await platform.request('DELETE', `/tasks/${waiting}`)).status).toBe(200);
    const processed = await Promise.all(
      [3, 4].map((records) => platform.submit('process', { data: { records } })),
    );
    const failed = await platform.submit('report', {
      report_type: 'custom',
      params: { from: 'last tuesday' },
    });
    await Promise.all(
      [...sent, ...processed].map((id) => platform.waitForTask(id, 'SUCCESS', 60_000)),
    );
    await platform.waitForTask(waiting, 'REVOKED');
    await platform.waitForTask(failed, 'FAILURE');

    // Yesterday and January 2024, as events stamped with those days.
    const at = (day: string): string => `${day}T12:00:00.000Z`;
    const events: RawEvent[] = [];
    const push = (type: string, state: RawEvent['state'], day: string, extra: object): void => {
      events.push({
        task_id: randomUUID(),
        type,
        state,
        attempt: 1,
        seq: 2,
        at: at(day),
        ...extra,
      });
    };
    for (let i = 0; i < 5; i += 1)
      push(EMAIL, 'SUCCESS', yesterday, { runtime_ms: 100, result: {} });
    for (let i = 0; i < 2; i += 1) {
      push(EMAIL, 'FAILURE', yesterday, {
        runtime_ms: 3000,
        error: 'SMTP 550 mailbox unavailable',
      });
    }
    push(PROCESS, 'SUCCESS', yesterday, { runtime_ms: 40, result: { records_processed: 42 } });
    for (let i = 0; i < 4; i += 1) {
      push(PROCESS, 'SUCCESS', '2024-01-15', {
        runtime_ms: 250,
        result: { records_processed: 10 },
      });
    }
    push(EMAIL, 'REVOKED', '2024-01-20', {});
    await publishEvents(platform, events);
    await waitForStatusStore(platform, randomUUID());
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('summarises the tasks it created as CSV: one row per type with counts, retries, run times and top errors', async () => {
    const { task, contentType, disposition, bytes } = await report('tasks_summary', {
      format: 'csv',
      colour: 'ignored',
    });
    expect(task.result).toMatchObject({
      status: 'generated',
      report_type: 'tasks_summary',
      format: 'csv',
      title: 'Tasks summary',
      period: { from: yesterday, to: isoDay(Date.now()) },
    });
    expect(String(task.result?.report_url)).toBe(`/reports/${task.task_id}.csv`);
    expect(contentType).toMatch(/^text\/csv/);
    expect(disposition).toContain(`${task.task_id}.csv`);
    const rows = byType(csvRows(bytes.toString('utf8')));
    // Today's tasks plus yesterday's events: the default period is yesterday and today.
    expect(rows[EMAIL]).toMatchObject({
      total: '11',
      succeeded: '8',
      failed: '2',
      revoked: '1',
      retries: '3',
      success_rate: '0.8000',
      top_errors: 'SMTP 550 mailbox unavailable (2)',
    });
    expect(Number(rows[EMAIL]?.p50_ms)).toBeGreaterThan(0);
    expect(rows[PROCESS]).toMatchObject({ total: '3', succeeded: '3', failed: '0', retries: '0' });
    expect(rows[REPORT]).toMatchObject({ total: '1', succeeded: '0', failed: '1' });
    expect(rows[REPORT]?.top_errors).toMatch(/params\.from/);
    expect(Object.keys(rows).sort()).toEqual([PROCESS, EMAIL, REPORT].sort());
  });

  it('reports progress while it builds', async () => {
    const { task } = await report('tasks_summary', { format: 'csv' });
    const progress = platform.events
      .of(task.task_id)
      .filter((e) => e.state === 'PROGRESS')
      .map((e) => [e.progress?.current, e.progress?.total]);
    // Progress is "latest value": steps reported faster than the broker confirms them are
    // coalesced, so the events seen are the first step, rising steps, and the last one.
    expect(progress[0]).toEqual([1, 4]);
    expect(progress[progress.length - 1]).toEqual([4, 4]);
    const steps = progress.map(([current]) => Number(current));
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(new Set(steps).size).toBe(steps.length);
  });

  it('writes a tasks summary PDF by default, with its title, period and the counts per type', async () => {
    const before = reportsDone;
    const { task, contentType, bytes } = await report('tasks_summary', {});
    expect(task.result).toMatchObject({ format: 'pdf' });
    expect(String(task.result?.report_url)).toBe(`/reports/${task.task_id}.pdf`);
    expect(contentType).toBe('application/pdf');
    const { text, title } = await pdfText(bytes);
    expect(title).toBe('Tasks summary');
    expect(text).toContain('Tasks summary');
    expect(text).toContain(`Period: ${yesterday} to ${isoDay(Date.now())}`);
    expect(text).toMatch(/task\.email\.send 11 8 2 1 3 80\.0%/);
    expect(text).toMatch(/task\.data\.process 3 3 0 0 0 100\.0%/);
    // The reports before this one (and the failed one) are tasks too.
    expect(text).toContain(`task.report.generate ${before + 1} ${before} 1 0 0`);
    expect(text).toContain('2 x SMTP 550 mailbox unavailable');
    expect(text).toContain('Tasks per day and state');
  });

  it("builds the daily report from yesterday's statistics only", async () => {
    const csv = await report('daily', { format: 'csv' });
    expect(csv.task.result).toMatchObject({
      title: 'Daily report',
      period: { from: yesterday, to: yesterday },
    });
    const rows = byType(csvRows(csv.bytes.toString('utf8')));
    expect(rows[EMAIL]).toMatchObject({
      total: '7',
      succeeded: '5',
      failed: '2',
      revoked: '0',
      retries: '0',
      p50_ms: upper(100),
      p95_ms: upper(3000),
      top_errors: 'SMTP 550 mailbox unavailable (2)',
    });
    expect(rows[PROCESS]).toMatchObject({ total: '1', succeeded: '1', p50_ms: upper(40) });
    expect(Object.keys(rows).sort()).toEqual([PROCESS, EMAIL].sort());

    const pdf = await report('daily', {});
    const { text } = await pdfText(pdf.bytes);
    expect(text).toContain('Daily report');
    expect(text).toContain(`Period: ${yesterday} (UTC days)`);
    expect(text).toMatch(/task\.email\.send 7 5 2 0 0 71\.4%/);
  });

  it('builds the monthly report of params.month/params.year', async () => {
    const csv = await report('monthly', { month: 1, year: 2024, format: 'csv' });
    expect(csv.task.result).toMatchObject({
      title: 'Monthly report: January 2024',
      period: { from: '2024-01-01', to: '2024-01-31' },
    });
    const rows = byType(csvRows(csv.bytes.toString('utf8')));
    expect(rows[PROCESS]).toMatchObject({ total: '4', succeeded: '4', p50_ms: upper(250) });
    expect(rows[EMAIL]).toMatchObject({ total: '1', succeeded: '0', revoked: '1' });

    const pdf = await report('monthly', { month: '1', year: '2024' });
    const { text, title } = await pdfText(pdf.bytes);
    expect(title).toBe('Monthly report: January 2024');
    expect(text).toContain('Period: 2024-01-01 to 2024-01-31');
    expect(text).toMatch(/task\.data\.process 4 4 0 0 0 100\.0%/);
  });

  it('counts the records processing tasks processed, per day', async () => {
    const today = isoDay(Date.now());
    const csv = await report('data_processing', { from: yesterday, to: today, format: 'csv' });
    const [header, ...days] = csvRows(csv.bytes.toString('utf8'));
    expect(header).toEqual([
      'day',
      'tasks_succeeded',
      'tasks_failed',
      'tasks_revoked',
      'retries',
      'records_processed',
      'p50_ms',
      'p95_ms',
    ]);
    expect(days.map((d) => d.slice(0, 6))).toEqual([
      [yesterday, '1', '0', '0', '0', '42'],
      [today, '2', '0', '0', '0', '7'],
    ]);

    const pdf = await report('data_processing', {});
    const { text } = await pdfText(pdf.bytes);
    expect(text).toContain('Data processing report');
    expect(text).toContain('records processed: 49');
    expect(text).toContain(`${yesterday} 1 0 0 0 42`);
    expect(text).toContain(`${today} 2 0 0 0 7`);
    expect(text).not.toContain('task.email.send');
  });

  it('titles any other report type with its name and gives it the tasks summary', async () => {
    const { task, bytes } = await report('Quarterly ops review', {});
    expect(task.result).toMatchObject({ report_type: 'Quarterly ops review', format: 'pdf' });
    const { text, title } = await pdfText(bytes);
    expect(title).toBe('Quarterly ops review');
    expect(text).toMatch(/task\.email\.send 11 8 2 1 3 80\.0%/);
  });

  it.each([
    ['monthly', { month: 13, year: 2024 }, 'month'],
    ['monthly', { month: 'March' }, 'month'],
    ['tasks_summary', { from: 'yesterday' }, 'from'],
    ['data_processing', { from: '2024-03-10', to: '2024-03-09' }, 'to'],
    ['daily', { format: 'docx' }, 'format'],
  ])('refuses %s with %j: 422 naming params.%s', async (report_type, params, field) => {
    const response = await platform.request('POST', '/tasks/report', { report_type, params });
    expect(response.status).toBe(422);
    const { detail } = response.body as { detail: { loc: string[] }[] };
    expect(detail.map((d) => d.loc)).toEqual([['body', 'params', field]]);
  });

  it('serves only files inside the reports folder: traversal attempts are 404', async () => {
    // A real file just outside the folder, and one inside that is a dotfile.
    const reportsDir = join(platform.workDir, 'reports');
    await mkdir(reportsDir, { recursive: true });
    await writeFile(join(platform.workDir, 'secret.csv'), 'SECRET-OUTSIDE');
    await writeFile(join(reportsDir, '.hidden.csv'), 'SECRET-HIDDEN');
    const attempts = [
      '/reports/../secret.csv',
      '/reports/..%2Fsecret.csv',
      '/reports/%2e%2e%2fsecret.csv',
      '/reports/%2E%2E/secret.csv',
      '/reports/..%5Csecret.csv',
      '/reports/%252e%252e%252fsecret.csv',
      '/reports/..%2F..%2F..%2F..%2Fetc%2Fpasswd',
      `/reports/${encodeURIComponent(join(platform.workDir, 'secret.csv'))}`,
      '/reports/%2Fetc%2Fpasswd',
      '/reports/.hidden.csv',
      '/reports/%00.csv',
      `/reports/${randomUUID()}.pdf`,
    ];
    for (const path of attempts) {
      const response = await rawGet(platform.baseUrl, path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(response.body).not.toContain('SECRET');
      expect(response.body).not.toContain('root:');
    }
  });
});

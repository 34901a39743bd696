/**
 * What a report says (pure): the summary from day statistics (counts, success rate, retries,
 * p50/p95 from the run-time buckets, top errors, records), the CSV rows and a PDF that pdf.js
 * reads back with the title and the counts in its text.
 */
import { type DayStats, durationBucket } from '@tasks/runtime';
import { pdfText } from '@tasks/runtime/testing';
import { reportCsv } from '../src/csv-report';
import { printable, reportPdf } from '../src/pdf-report';
import { reportSpec } from '../src/report-spec';
import { percentileMs, summarise } from '../src/summary';

const NOW = Date.UTC(2024, 2, 15, 10, 30);
const EMAIL = 'task.email.send';
const PROCESS = 'task.data.process';

/** Buckets of the given run times, as the status-store counts them. */
function buckets(...runtimes: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const ms of runtimes) out[durationBucket(ms)] = (out[durationBucket(ms)] ?? 0) + 1;
  return out;
}

const empty = (): DayStats => ({ counts: {}, durations: {}, errors: {}, records: {} });

const stats = new Map<string, DayStats>([
  [
    '2024-03-14',
    {
      counts: {
        [EMAIL]: { SUCCESS: 8, FAILURE: 2, RETRY: 3 },
        [PROCESS]: { SUCCESS: 1 },
      },
      durations: {
        [EMAIL]: {
          SUCCESS: buckets(100, 100, 100, 100, 100, 100, 100, 100),
          FAILURE: buckets(5000, 5000),
        },
        [PROCESS]: { SUCCESS: buckets(40) },
      },
      errors: { [EMAIL]: { 'SMTP 550 mailbox unavailable': 2 } },
      records: { [PROCESS]: 10 },
    },
  ],
  [
    '2024-03-15',
    {
      counts: { [EMAIL]: { SUCCESS: 2, REVOKED: 1, FAILURE: 1 }, [PROCESS]: { SUCCESS: 2 } },
      durations: { [EMAIL]: { SUCCESS: buckets(100, 100), FAILURE: buckets(20) } },
      errors: { [EMAIL]: { 'timeout after <id>': 1 } },
      records: { [PROCESS]: 25 },
    },
  ],
]);

describe('percentileMs', () => {
  it('answers the upper bound of the bucket the rank falls in, within 19 % of the value', () => {
    const runs = new Map(
      Object.entries(buckets(10, 20, 30, 40, 50, 60, 70, 80, 90, 100)).map(([b, n]) => [
        Number(b),
        n,
      ]),
    );
    const p50 = percentileMs(runs, 0.5)!;
    const p95 = percentileMs(runs, 0.95)!;
    expect(p50).toBeGreaterThanOrEqual(50);
    expect(p50).toBeLessThanOrEqual(50 * 1.19);
    expect(p95).toBeGreaterThanOrEqual(100);
    expect(p95).toBeLessThanOrEqual(119);
  });

  it('is null without runs', () => {
    expect(percentileMs(new Map(), 0.5)).toBeNull();
  });
});

describe('summarise', () => {
  it('adds up each task type over the period', () => {
    const summary = summarise(stats);
    expect(summary.types.map((t) => t.taskType)).toEqual([PROCESS, EMAIL]);
    const email = summary.types[1]!;
    expect(email).toMatchObject({
      total: 14,
      succeeded: 10,
      failed: 3,
      revoked: 1,
      retries: 3,
      recordsProcessed: 0,
    });
    expect(email.successRate).toBeCloseTo(10 / 13);
    expect(email.p50Ms).toBe(Math.round(2 ** (durationBucket(100) / 4)));
    expect(email.p95Ms).toBe(Math.round(2 ** (durationBucket(5000) / 4)));
    expect(email.topErrors).toEqual([
      { error: 'SMTP 550 mailbox unavailable', count: 2 },
      { error: 'timeout after <id>', count: 1 },
    ]);
    expect(summary.types[0]).toMatchObject({ succeeded: 3, recordsProcessed: 35, retries: 0 });
  });

  it('counts each day by state, and keeps only the types asked for', () => {
    const summary = summarise(stats, (type) => type === PROCESS);
    expect(summary.days.map((d) => [d.day, d.counts.SUCCESS, d.recordsProcessed])).toEqual([
      ['2024-03-14', 1, 10],
      ['2024-03-15', 2, 25],
    ]);
    expect(summary.totals).toEqual({
      SUCCESS: 3,
      FAILURE: 0,
      REVOKED: 0,
      RETRY: 0,
      recordsProcessed: 35,
    });
  });

  it('has a row for every day, empty ones included, and no types when nothing ran', () => {
    const summary = summarise(new Map([['2024-03-01', empty()]]));
    expect(summary.types).toEqual([]);
    expect(summary.days).toEqual([
      {
        day: '2024-03-01',
        counts: { SUCCESS: 0, FAILURE: 0, REVOKED: 0, RETRY: 0 },
        recordsProcessed: 0,
        p50Ms: null,
        p95Ms: null,
      },
    ]);
  });
});

describe('reportSpec', () => {
  it('titles a free-text type with its name and builds a tasks summary, PDF by default', () => {
    const spec = reportSpec('weekly sales (EMEA)', {}, NOW);
    expect([spec.title, spec.content, spec.format]).toEqual([
      'weekly sales (EMEA)',
      'tasks_summary',
      'pdf',
    ]);
  });

  it('titles a monthly report with its month', () => {
    expect(reportSpec('monthly', { month: 1, year: 2024, format: 'csv' }, NOW)).toMatchObject({
      title: 'Monthly report: January 2024',
      format: 'csv',
      period: { from: '2024-01-01', to: '2024-01-31' },
    });
  });

  it('counts only processing tasks in a data processing report', () => {
    const spec = reportSpec('data_processing', {}, NOW);
    expect([spec.includes(PROCESS), spec.includes(EMAIL)]).toEqual([true, false]);
  });

  it.each([
    ['monthly', { month: 13 }, 'params.month'],
    ['tasks_summary', { from: 'soon' }, 'params.from'],
    ['daily', { format: 'docx' }, 'params.format'],
    ['free text', { to: 'never' }, 'params.to'],
  ])('fails %s with %j permanently, naming %s', (type, params, named) => {
    expect(() => reportSpec(type, params, NOW)).toThrow(named);
  });
});

describe('reportCsv', () => {
  it('writes one row per task type for a summary', () => {
    const spec = reportSpec('tasks_summary', { format: 'csv' }, NOW);
    const lines = reportCsv(spec, summarise(stats)).trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'task_type,total,succeeded,failed,revoked,retries,success_rate,p50_ms,p95_ms,top_errors',
    );
    expect(lines[2]).toMatch(
      /^task\.email\.send,14,10,3,1,3,0\.7692,\d+,\d+,SMTP 550 mailbox unavailable \(2\); timeout after <id> \(1\)$/,
    );
    expect(lines).toHaveLength(3);
  });

  it('writes one row per day for data processing', () => {
    const spec = reportSpec(
      'data_processing',
      { format: 'csv', from: '2024-03-14', to: '2024-03-15' },
      NOW,
    );
    const lines = reportCsv(spec, summarise(stats, spec.includes)).trimEnd().split('\r\n');
    expect(lines.slice(0, 2)).toEqual([
      'day,tasks_succeeded,tasks_failed,tasks_revoked,retries,records_processed,p50_ms,p95_ms',
      `2024-03-14,1,0,0,0,10,${Math.round(2 ** (durationBucket(40) / 4))},${Math.round(2 ** (durationBucket(40) / 4))}`,
    ]);
    expect(lines[2]).toBe('2024-03-15,2,0,0,0,25,,');
  });
});

describe('reportPdf', () => {
  // Each PDF is read back by pdf.js in a node process of its own (pdfText in @tasks/runtime/testing).
  jest.setTimeout(30_000);
  it('writes a PDF that pdf.js reads, with the title, the period and each type with its counts', async () => {
    const spec = reportSpec('tasks_summary', {}, NOW);
    const bytes = await reportPdf(spec, summarise(stats), {
      generatedAt: new Date(NOW).toISOString(),
    });
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    const { text, title, pages } = await pdfText(bytes);
    expect(pages).toBe(1);
    expect(title).toBe('Tasks summary');
    expect(text).toContain('Tasks summary');
    expect(text).toContain('Period: 2024-03-14 to 2024-03-15');
    expect(text).toMatch(/task\.email\.send 14 10 3 1 3 76\.9%/);
    expect(text).toMatch(/task\.data\.process 3 3 0 0 0 100\.0%/);
    expect(text).toContain('2 x SMTP 550 mailbox unavailable');
    expect(text).toContain('Tasks per day and state');
  });

  it('writes a data processing PDF with a row per active day and the records', async () => {
    const spec = reportSpec('data_processing', { from: '2024-03-13', to: '2024-03-15' }, NOW);
    const { text } = await pdfText(
      await reportPdf(spec, summarise(stats, spec.includes), { generatedAt: 'now' }),
    );
    expect(text).toContain('records processed: 35');
    expect(text).toMatch(/2024-03-14 1 0 0 0 10/);
    expect(text).toMatch(/2024-03-15 2 0 0 0 25/);
    expect(text).not.toContain('2024-03-13 0');
  });

  it('spreads a year of days over the chart and a long error list over pages', async () => {
    const year = new Map<string, DayStats>();
    for (let d = 0; d < 366; d += 1) {
      const day = new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10);
      year.set(day, {
        ...empty(),
        counts: Object.fromEntries(
          Array.from({ length: 30 }, (_, i) => [
            `task.type${i}.run`,
            { SUCCESS: d % 7, FAILURE: 1 },
          ]),
        ),
        errors: Object.fromEntries(
          Array.from({ length: 30 }, (_, i) => [`task.type${i}.run`, { [`error ${i}`]: 1 }]),
        ),
      });
    }
    const spec = reportSpec('tasks_summary', { from: '2024-01-01', to: '2024-12-31' }, NOW);
    const { pages, text } = await pdfText(
      await reportPdf(spec, summarise(year), { generatedAt: 'now' }),
    );
    expect(pages).toBeGreaterThan(1);
    expect(text).toContain('task.type29.run');
  });

  it('shows what Helvetica cannot as ?, and keeps the whole title in the metadata', async () => {
    expect(printable('Ünïcode ✓ report — €')).toBe('Ünïcode ? report — €');
    const spec = reportSpec('Ünïcode ✓ report', {}, NOW);
    const { text, title } = await pdfText(
      await reportPdf(spec, summarise(stats), { generatedAt: 'now' }),
    );
    expect(title).toBe('Ünïcode ✓ report');
    expect(text).toContain('Ünïcode ? report');
  });
});

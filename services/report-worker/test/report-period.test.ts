/**
 * The days a report covers (UTC days): daily is yesterday, monthly a calendar month, any type
 * `from`..`to` inclusive, yesterday and today by default. Bad params are permanent errors.
 */
import { errorCode } from '@tasks/runtime';
import { reportPeriod } from '../src/report-period';

/** 2024-03-15 10:30 UTC; 2024 is a leap year. */
const NOW = Date.UTC(2024, 2, 15, 10, 30);

/** Runs `fn`, which must throw, and returns what it threw. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('reportPeriod', () => {
  it('covers yesterday for a daily report', () => {
    expect(reportPeriod('daily', {}, NOW)).toEqual({
      from: '2024-03-14',
      to: '2024-03-14',
      days: ['2024-03-14'],
    });
  });

  it('takes yesterday for a daily report whatever the params say', () => {
    expect(reportPeriod('daily', { from: '2024-01-01', month: 2 }, NOW).days).toEqual([
      '2024-03-14',
    ]);
  });

  it('counts days in UTC, just before and just after midnight', () => {
    expect(reportPeriod('daily', {}, Date.UTC(2024, 2, 15, 23, 59, 59, 999)).from).toBe(
      '2024-03-14',
    );
    expect(reportPeriod('daily', {}, Date.UTC(2024, 2, 16)).from).toBe('2024-03-15');
  });

  it('crosses a year boundary for yesterday', () => {
    expect(reportPeriod('daily', {}, Date.UTC(2025, 0, 1, 8)).days).toEqual(['2024-12-31']);
  });

  it('covers every day of February in a leap year for a monthly report', () => {
    const period = reportPeriod('monthly', { month: 2, year: 2024 }, NOW);
    expect(period.from).toBe('2024-02-01');
    expect(period.to).toBe('2024-02-29');
    expect(period.days).toHaveLength(29);
    expect(period.days).toEqual(
      Array.from({ length: 29 }, (_, i) => `2024-02-${String(i + 1).padStart(2, '0')}`),
    );
  });

  it('covers 28 days of February in a common year', () => {
    const period = reportPeriod('monthly', { month: 2, year: 2023 }, NOW);
    expect(period.days).toHaveLength(28);
    expect(period.to).toBe('2023-02-28');
  });

  it('covers 31 days of December', () => {
    const period = reportPeriod('monthly', { month: 12, year: 2025 }, NOW);
    expect([period.from, period.to, period.days.length]).toEqual(['2025-12-01', '2025-12-31', 31]);
  });

  it('accepts month and year as numeric strings', () => {
    expect(reportPeriod('monthly', { month: '4', year: '2024' }, NOW).to).toBe('2024-04-30');
  });

  it('takes the current year when a monthly report gives only the month, and vice versa', () => {
    expect(reportPeriod('monthly', { month: 1 }, NOW).from).toBe('2024-01-01');
    expect(reportPeriod('monthly', { year: 2023 }, NOW).from).toBe('2023-03-01');
  });

  it('covers from..to inclusive for any report type', () => {
    expect(reportPeriod('custom', { from: '2024-02-27', to: '2024-03-02' }, NOW)).toEqual({
      from: '2024-02-27',
      to: '2024-03-02',
      days: ['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01', '2024-03-02'],
    });
  });

  it('covers a single day when from equals to', () => {
    expect(reportPeriod('sales', { from: '2024-01-10', to: '2024-01-10' }, NOW).days).toEqual([
      '2024-01-10',
    ]);
  });

  it('runs an open end up to today, or from today', () => {
    expect(reportPeriod('x', { from: '2024-03-13' }, NOW).days).toEqual([
      '2024-03-13',
      '2024-03-14',
      '2024-03-15',
    ]);
    expect(reportPeriod('x', { to: '2024-03-16' }, NOW).days).toEqual(['2024-03-15', '2024-03-16']);
  });

  it('covers yesterday and today by default', () => {
    const expected = { from: '2024-03-14', to: '2024-03-15', days: ['2024-03-14', '2024-03-15'] };
    expect(reportPeriod('summary', {}, NOW)).toEqual(expected);
    expect(reportPeriod('tasks_summary', {}, NOW)).toEqual(expected);
  });

  it('covers the current month for a monthly report without params', () => {
    const period = reportPeriod('monthly', {}, NOW);
    expect([period.from, period.to, period.days.length]).toEqual(['2024-03-01', '2024-03-31', 31]);
  });

  it.each([
    ['month 13', 'monthly', { month: 13, year: 2024 }, 'params.month'],
    ['month 0', 'monthly', { month: 0 }, 'params.month'],
    ['a fractional month', 'monthly', { month: 1.5 }, 'params.month'],
    ['a month that is no number', 'monthly', { month: 'March' }, 'params.month'],
    ['year 1999', 'monthly', { month: 1, year: 1999 }, 'params.year'],
    ['year 2101', 'monthly', { month: 1, year: 2101 }, 'params.year'],
    ['a from that is no date', 'x', { from: 'yesterday' }, 'params.from'],
    ['a from without leading zeros', 'x', { from: '2024-3-1' }, 'params.from'],
    ['a from that is a number', 'x', { from: 20240301 }, 'params.from'],
    ['February 30', 'x', { from: '2024-02-30' }, 'params.from'],
    ['February 29 of a common year', 'x', { from: '2023-02-01', to: '2023-02-29' }, 'params.to'],
    ['month 13 in a date', 'x', { from: '2024-13-01' }, 'params.from'],
    ['to before from', 'x', { from: '2024-03-10', to: '2024-03-09' }, 'params.to'],
  ])('rejects %s with a PermanentError naming the param', (_, type, params, named) => {
    const err = thrownBy(() => reportPeriod(type, params, NOW));
    expect(errorCode(err)).toBe('TASK_PERMANENT');
    expect((err as Error).message).toContain(named);
  });
});

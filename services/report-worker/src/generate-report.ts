/**
 * Runs `task.report.generate`: reads the status-store's long-lived daily counters for the
 * report's period and writes a CSV file named after the task id (never after user input), then
 * returns `{status: "generated", report_type, report_url, generated_at}` as the original.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReportGeneratePayload } from '@tasks/contracts';
import type { TaskHandler, TaskStore } from '@tasks/runtime';
import { toCsv } from './csv';
import { reportPeriod } from './report-period';

export interface GenerateReportResult {
  readonly status: 'generated';
  readonly report_type: string;
  readonly report_url: string;
  readonly generated_at: string;
  readonly format: 'csv';
  readonly period: { readonly from: string; readonly to: string };
  readonly rows: number;
}

export interface GenerateReportDeps {
  readonly store: Pick<TaskStore, 'dailyStats'>;
  readonly reportsDir: string;
}

export function createGenerateReport(
  deps: GenerateReportDeps,
): TaskHandler<ReportGeneratePayload, GenerateReportResult> {
  return async (payload, ctx) => {
    const period = reportPeriod(payload.report_type, payload.params);
    await ctx.progress(1, 3, 'Reading statistics');
    const stats = await deps.store.dailyStats(period.days);
    ctx.signal.throwIfAborted();
    const rows: (string | number)[][] = [['day', 'task_type', 'state', 'count']];
    for (const [day, counts] of stats) {
      for (const [field, count] of Object.entries(counts).sort(([a], [b]) => a.localeCompare(b))) {
        const [taskType = '', state = ''] = field.split('|');
        rows.push([day, taskType, state, count]);
      }
    }
    await ctx.progress(2, 3, 'Writing CSV');
    const fileName = `${ctx.taskId}.csv`;
    await mkdir(deps.reportsDir, { recursive: true });
    const target = join(deps.reportsDir, fileName);
    await writeFile(`${target}.tmp`, toCsv(rows));
    await rename(`${target}.tmp`, target);
    await ctx.progress(3, 3, 'Done');
    return {
      status: 'generated',
      report_type: payload.report_type,
      report_url: `/reports/${fileName}`,
      generated_at: new Date().toISOString(),
      format: 'csv',
      period: { from: period.from, to: period.to },
      rows: rows.length - 1,
    };
  };
}

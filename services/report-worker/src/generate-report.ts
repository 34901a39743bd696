/**
 * Runs `task.report.generate`: reads the status-store's long-lived day statistics for the
 * report's period, summarises them and writes a PDF (default) or CSV file named after the task
 * id (never after user input), reporting progress on the way; returns
 * `{status: "generated", report_type, report_url, generated_at}` as the original, and more.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import type { ReportGeneratePayload } from '@tasks/contracts';
import type { TaskHandler } from '@tasks/runtime/handler';
import type { TaskStore } from '@tasks/runtime';
import { reportCsv } from './csv-report';
import { reportFile } from './report-file';
import type * as PdfReport from './pdf-report';
import { reportSpec } from './report-spec';
import { summarise } from './summary';

export interface GenerateReportResult {
  readonly status: 'generated';
  readonly report_type: string;
  readonly report_url: string;
  readonly generated_at: string;
  readonly format: 'pdf' | 'csv';
  readonly title: string;
  readonly period: { readonly from: string; readonly to: string };
  /** Tasks the report counts as finished (succeeded, failed or revoked). */
  readonly tasks: number;
  readonly bytes: number;
}

export interface GenerateReportDeps {
  readonly store: Pick<TaskStore, 'dayStats'>;
  readonly reportsDir: string;
  readonly now?: () => number;
}

const STEPS = 4;

export function createGenerateReport(
  deps: GenerateReportDeps,
): TaskHandler<ReportGeneratePayload, GenerateReportResult> {
  return async (payload, ctx) => {
    const now = deps.now?.() ?? Date.now();
    const spec = reportSpec(payload.report_type, payload.params, now);
    const { fileName, path: target } = reportFile(deps.reportsDir, ctx.taskId, spec.format);
    await ctx.progress(1, STEPS, 'Reading statistics');
    const stats = await deps.store.dayStats(spec.period.days);
    ctx.signal.throwIfAborted();
    await ctx.progress(2, STEPS, 'Summarising');
    const summary = summarise(stats, spec.includes);
    const generatedAt = new Date(now).toISOString();
    await ctx.progress(3, STEPS, spec.format === 'pdf' ? 'Drawing PDF' : 'Writing CSV');
    const bytes =
      spec.format === 'pdf'
        ? await loadPdfReport().reportPdf(spec, summary, { generatedAt })
        : Buffer.from(reportCsv(spec, summary), 'utf8');
    ctx.signal.throwIfAborted();
    await ctx.progress(4, STEPS, 'Saving');
    await mkdir(deps.reportsDir, { recursive: true });
    // Written aside, then renamed: a download never sees half a file.
    await writeFile(`${target}.tmp`, bytes);
    await rename(`${target}.tmp`, target);
    const t = summary.totals;
    return {
      status: 'generated',
      report_type: payload.report_type,
      report_url: `/reports/${fileName}`,
      generated_at: generatedAt,
      format: spec.format,
      title: spec.title,
      period: { from: spec.period.from, to: spec.period.to },
      tasks: t.SUCCESS + t.FAILURE + t.REVOKED,
      bytes: bytes.length,
    };
  };
}

/**
 * pdfkit (its code and font metrics, ~12 MB of RSS) loads with the first PDF, not at start-up:
 * an idle report-worker stays within the memory target (bench/README.md, scenario 5).
 */
function loadPdfReport(): typeof PdfReport {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./pdf-report') as typeof PdfReport;
}

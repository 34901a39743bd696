/**
 * `task.report.generate` as a thread handler (the report-worker's default isolation): drawing
 * a PDF is CPU-bound for hundreds of milliseconds, which in-process would hold up the worker's
 * heartbeats, acks and revocations. The statistics are still read by the main thread's Redis
 * client (`host.dayStats`); the thread loads only the handler and pdfkit.
 */
import { defineThreadHandler } from '@tasks/runtime/handler';
import { createGenerateReport, type GenerateReportDeps } from './generate-report';

export interface GenerateReportThreadOptions {
  readonly reportsDir: string;
}

/** The main thread's functions the handler calls. */
export interface GenerateReportHost {
  readonly dayStats: GenerateReportDeps['store']['dayStats'];
}

export default defineThreadHandler(
  (options: GenerateReportThreadOptions, host: GenerateReportHost) =>
    createGenerateReport({ store: host, reportsDir: options.reportsDir }),
);

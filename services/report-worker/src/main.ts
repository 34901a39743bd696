/** report-worker: builds report files from the platform's statistics. */
import { REPORT_GENERATE, ReportGeneratePayload } from '@tasks/contracts';
import { defineTask, runService, startWorkerService } from '@tasks/runtime';
import { loadConfig } from './config';
import { createGenerateReport } from './generate-report';

runService({
  service: 'report-worker',
  start: async (log) => {
    const config = loadConfig();
    return startWorkerService({
      service: 'report-worker',
      config,
      log,
      tasks: ({ store }) => [
        defineTask({
          routingKey: REPORT_GENERATE,
          payload: ReportGeneratePayload,
          handler: createGenerateReport({ store, reportsDir: config.REPORTS_DIR }),
        }),
      ],
    });
  },
});

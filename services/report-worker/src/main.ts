/** report-worker: builds report files from the platform's statistics. */
// First, so tracing patches http, express and ioredis before anything loads them.
import '@tasks/runtime/instrumentation';
import {
  MAINTENANCE_CLEANUP,
  MaintenanceCleanupPayload,
  REPORT_GENERATE,
  ReportGeneratePayload,
} from '@tasks/contracts';
import {
  DeadLetterStore,
  defineTask,
  runService,
  startWorkerService,
  WorkerRegistry,
} from '@tasks/runtime';
import { createCleanup } from './cleanup';
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
      tasks: ({ store, redis }) => [
        defineTask({
          routingKey: REPORT_GENERATE,
          payload: ReportGeneratePayload,
          handler: createGenerateReport({ store, reportsDir: config.REPORTS_DIR }),
        }),
        defineTask({
          routingKey: MAINTENANCE_CLEANUP,
          payload: MaintenanceCleanupPayload,
          handler: createCleanup({
            reportsDir: config.REPORTS_DIR,
            registry: new WorkerRegistry(redis, config.REDIS_PREFIX),
            deadLetters: new DeadLetterStore(redis, config.REDIS_PREFIX),
            reportRetentionDays: config.REPORT_RETENTION_DAYS,
            deadLetterRetentionDays: config.DEAD_LETTER_RETENTION_DAYS,
            workerSilenceMs: config.WORKER_REGISTRY_RETENTION_MS,
          }),
        }),
      ],
    });
  },
});

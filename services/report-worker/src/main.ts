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
import type { GenerateReportHost, GenerateReportThreadOptions } from './generate-report-thread';

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
          // Drawing a PDF is CPU-bound: in a thread it cannot hold up heartbeats or acks, and a
          // hard time limit or a cancel with terminate really stops it (docs/ARCHITECTURE.md).
          isolation: 'thread',
          thread: {
            module: require.resolve('./generate-report-thread'),
            options: { reportsDir: config.REPORTS_DIR } satisfies GenerateReportThreadOptions,
            host: {
              dayStats: (days: readonly string[]) => store.dayStats(days),
            } satisfies GenerateReportHost,
          },
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

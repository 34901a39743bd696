/** processing-worker: runs `task.data.process` with progress and cooperative cancellation. */
// First, so tracing patches http, express and ioredis before anything loads them.
import '@tasks/runtime/instrumentation';
import { DATA_PROCESS, DataProcessPayload } from '@tasks/contracts';
import { defineTask, runService, startWorkerService } from '@tasks/runtime';
import { loadConfig } from './config';
import { withCrashInjection } from './crash-injection';
import { createProcessData } from './process-data';
import type { ProcessDataThreadOptions } from './process-data-thread';

runService({
  service: 'processing-worker',
  start: async (log) => {
    const config = loadConfig();
    const options = { steps: config.PROCESS_STEPS, stepMs: config.PROCESS_STEP_MS };
    return startWorkerService({
      service: 'processing-worker',
      config,
      log,
      tasks: () => [
        defineTask({
          routingKey: DATA_PROCESS,
          payload: DataProcessPayload,
          handler: withCrashInjection(createProcessData(options), config.PROCESS_CRASH_MARKER),
          // In-process by default: copying a payload into a thread costs more than this
          // handler's work (docs/ARCHITECTURE.md, "Isolation"); TASK_ISOLATION can change it.
          isolation: 'in-process',
          thread: {
            module: require.resolve('./process-data-thread'),
            options: {
              ...options,
              crashMarker: config.PROCESS_CRASH_MARKER,
            } satisfies ProcessDataThreadOptions,
          },
        }),
      ],
    });
  },
});

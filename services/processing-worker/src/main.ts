/** processing-worker: runs `task.data.process` with progress and cooperative cancellation. */
import { DATA_PROCESS, DataProcessPayload } from '@tasks/contracts';
import { defineTask, runService, startWorkerService } from '@tasks/runtime';
import { loadConfig } from './config';
import { createProcessData } from './process-data';

runService({
  service: 'processing-worker',
  start: async (log) => {
    const config = loadConfig();
    return startWorkerService({
      service: 'processing-worker',
      config,
      log,
      tasks: () => [
        defineTask({
          routingKey: DATA_PROCESS,
          payload: DataProcessPayload,
          handler: createProcessData({
            steps: config.PROCESS_STEPS,
            stepMs: config.PROCESS_STEP_MS,
          }),
        }),
      ],
    });
  },
});

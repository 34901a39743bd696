/** processing-worker: runs `task.data.process` with progress and cooperative cancellation. */
// First, so tracing patches http, express and ioredis before anything loads them.
import '@tasks/runtime/instrumentation';
import { DATA_PROCESS, DataProcessPayload } from '@tasks/contracts';
import { defineTask, runService, startWorkerService, type TaskHandler } from '@tasks/runtime';
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
          handler: withCrashInjection(
            createProcessData({ steps: config.PROCESS_STEPS, stepMs: config.PROCESS_STEP_MS }),
            config.PROCESS_CRASH_MARKER,
          ),
        }),
      ],
    });
  },
});

/**
 * PROCESS_CRASH_MARKER (tests, demos): a task whose description equals the marker kills this
 * process, as an out-of-memory crash would, so crash-loop parking can be shown with real code.
 */
function withCrashInjection<P extends { description?: string }, R>(
  handler: TaskHandler<P, R>,
  marker: string | undefined,
): TaskHandler<P, R> {
  if (!marker) return handler;
  return (payload, ctx) => {
    if (payload.description === marker) process.kill(process.pid, 'SIGKILL');
    return handler(payload, ctx);
  };
}

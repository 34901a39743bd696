/**
 * The benchmark's worker service: the runtime's real worker path (`startWorkerService`, the
 * same entry frame, consumer, event batching and acks as every worker service) with a no-op
 * handler on `task.data.process`, the processing-worker's queue. The handler returns its start
 * and end on the machine's monotonic clock, so latency can be split into stages.
 *
 * BENCH_HANDLER_MS > 0 makes it wait that long instead (an I/O-bound task).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DATA_PROCESS, DataProcessPayload } from '@tasks/contracts';
import {
  defineTask,
  envInt,
  parseConfig,
  runService,
  startWorkerService,
  WorkerServiceConfig,
} from '@tasks/runtime';
import { nowMs } from '../support/clock';

const BenchWorkerConfig = WorkerServiceConfig.extend({
  BENCH_HANDLER_MS: envInt(0).default(0).describe('How long the handler waits, in ms'),
});

runService({
  service: 'processing-worker',
  start: async (log) => {
    const config = parseConfig(BenchWorkerConfig, process.env);
    const waitMs = config.BENCH_HANDLER_MS;
    return startWorkerService({
      service: 'processing-worker',
      config,
      log,
      tasks: () => [
        defineTask({
          routingKey: DATA_PROCESS,
          payload: DataProcessPayload,
          handler: async (_payload, ctx) => {
            const t2 = nowMs();
            if (waitMs > 0) await sleep(waitMs, undefined, { signal: ctx.signal });
            return { t2, t3: nowMs() };
          },
        }),
      ],
    });
  },
});

/**
 * `task.data.process` as a thread handler, for `TASK_ISOLATION=task.data.process=thread`: worth
 * it when payloads carry large `data.records` arrays whose statistics take long to compute. The
 * default stays in-process: copying such a payload into a thread costs more than computing
 * its statistics (bench/README.md, "Thread isolation").
 */
import { defineThreadHandler } from '@tasks/runtime/handler';
import { withCrashInjection } from './crash-injection';
import { createProcessData, type ProcessDataOptions } from './process-data';

export interface ProcessDataThreadOptions extends ProcessDataOptions {
  readonly crashMarker?: string;
}

export default defineThreadHandler((options: ProcessDataThreadOptions) =>
  withCrashInjection(createProcessData(options), options.crashMarker),
);

/**
 * `task.data.process` as a thread handler, for `TASK_ISOLATION=task.data.process=thread`: worth
 * it when payloads carry large `data.records` arrays (their statistics are computed on the
 * event loop); the default stays in-process (docs/ARCHITECTURE.md, "Isolation").
 */
import { defineThreadHandler } from '@tasks/runtime/handler';
import { createProcessData, type ProcessDataOptions } from './process-data';

export default defineThreadHandler((options: ProcessDataOptions) => createProcessData(options));

/**
 * Runs `task.data.process`: the data is processed in PROCESS_STEPS steps, with PROGRESS
 * `{current, total, status}` after each, then `{status: "completed", records_processed,
 * completed_at}` as the original. When `data.records` is an array, the result also carries real
 * per-field statistics. Cancellation is checked at every step (ctx.signal).
 */
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import type { DataProcessPayload } from '@tasks/contracts';
import type { TaskHandler } from '@tasks/runtime/handler';
import { type FieldStatistics, FieldStatisticsBuilder } from './field-statistics';

export interface ProcessDataResult {
  readonly status: 'completed';
  readonly records_processed: number;
  readonly completed_at: string;
  readonly description?: string;
  readonly statistics?: Record<string, FieldStatistics>;
}

export interface ProcessDataOptions {
  readonly steps: number;
  readonly stepMs: number;
}

export function createProcessData(
  options: ProcessDataOptions,
): TaskHandler<DataProcessPayload, ProcessDataResult> {
  return async (payload, ctx) => {
    const records = payload.data.records;
    const rows = Array.isArray(records) ? records : [];
    const stats = Array.isArray(records) ? new FieldStatisticsBuilder() : undefined;
    const total = options.steps;
    for (let step = 1; step <= total; step += 1) {
      ctx.signal.throwIfAborted();
      if (options.stepMs > 0) await sleep(options.stepMs, undefined, { signal: ctx.signal });
      else await yieldToLoop();
      ctx.signal.throwIfAborted();
      const from = Math.floor(((step - 1) * rows.length) / total);
      const to = Math.floor((step * rows.length) / total);
      stats?.add(rows.slice(from, to));
      await ctx.progress(step, total, `Processing step ${step}/${total}`);
    }
    return {
      status: 'completed',
      records_processed: typeof records === 'number' ? records : rows.length,
      completed_at: new Date().toISOString(),
      ...(payload.description === undefined ? {} : { description: payload.description }),
      ...(stats ? { statistics: stats.build() } : {}),
    };
  };
}

import type { TaskContext } from '../worker/task-context';
import { silentLog } from './silent-log';

/** One `ctx.progress(current, total, status)` call, as a handler made it. */
export interface ProgressCall {
  readonly current: number;
  readonly total: number;
  readonly status?: string;
}

/** A TaskContext for unit tests of a handler, with the means to steer and observe it. */
export interface FakeTaskContext extends TaskContext {
  /** Aborts `signal` (unless `signal` was overridden). */
  readonly controller: AbortController;
  /** Every progress call, in order (unless `progress` was overridden). */
  readonly progressCalls: ProgressCall[];
}

export interface FakeTaskContextOptions extends Partial<TaskContext> {
  /** Called on each recorded progress call (e.g. to abort at a given step). */
  readonly onProgress?: (call: ProgressCall, ctx: FakeTaskContext) => void;
}

/**
 * A context as the worker would hand a handler: task `task-1` of type `task.data.process`,
 * first attempt, a silent log and a progress that records its calls; `options` replace any
 * of these.
 */
export function fakeTaskContext(options: FakeTaskContextOptions = {}): FakeTaskContext {
  const { onProgress, ...overrides } = options;
  const controller = new AbortController();
  const progressCalls: ProgressCall[] = [];
  const ctx: FakeTaskContext = {
    taskId: 'task-1',
    type: 'task.data.process',
    attempt: 1,
    signal: controller.signal,
    log: silentLog,
    progress: (current, total, status) => {
      const call = status === undefined ? { current, total } : { current, total, status };
      progressCalls.push(call);
      onProgress?.(call, ctx);
      return Promise.resolve();
    },
    ...overrides,
    controller,
    progressCalls,
  };
  return ctx;
}

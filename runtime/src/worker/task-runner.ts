/**
 * The runner: calls a task's handler under its soft and hard time limits. The worker loop does
 * not care where the handler runs; this one runs it in the worker's own event loop.
 */
import { SoftTimeLimitError, TimeLimitError } from '../errors';
import type { LazyAbort } from './lazy-abort';
import type { TaskContext } from './task-context';
import type { RegisteredTask } from './task-definition';

/** The limits one run is held to, in ms; 0 means none. */
export interface RunLimits {
  readonly softTimeLimitMs: number;
  readonly timeLimitMs: number;
}

/** Runs one handler; resolves with its result, rejects with its error or the time limit's. */
export interface TaskRunner {
  run(
    task: RegisteredTask,
    payload: unknown,
    ctx: TaskContext,
    controller: LazyAbort,
    limits: RunLimits,
  ): Promise<unknown>;
}

/** Runs handlers in this process. */
export class InProcessTaskRunner implements TaskRunner {
  run(
    task: RegisteredTask,
    payload: unknown,
    ctx: TaskContext,
    controller: LazyAbort,
    limits: RunLimits,
  ): Promise<unknown> {
    return withLimits(controller, limits, () => task.run(payload, ctx));
  }
}

/**
 * Runs `fn` under the soft limit (the signal aborts, the handler may finish) and the hard limit
 * (the signal aborts and the run fails at once, whatever the handler does).
 */
export async function withLimits<T>(
  controller: LazyAbort,
  limits: RunLimits,
  fn: () => Promise<T>,
): Promise<T> {
  const { softTimeLimitMs: softMs, timeLimitMs: hardMs } = limits;
  if (softMs <= 0 && hardMs <= 0) return fn();
  const timers: NodeJS.Timeout[] = [];
  try {
    if (softMs > 0) {
      timers.push(setTimeout(() => controller.abort(new SoftTimeLimitError(softMs)), softMs));
    }
    if (hardMs <= 0) return await fn();
    const running = fn();
    const limit = new Promise<never>((_, reject) => {
      timers.push(
        setTimeout(() => {
          const err = new TimeLimitError(hardMs);
          controller.abort(err);
          reject(err);
        }, hardMs),
      );
    });
    running.catch(() => undefined); // its outcome no longer matters once the limit passed
    return await Promise.race([running, limit]);
  } finally {
    timers.forEach(clearTimeout);
  }
}

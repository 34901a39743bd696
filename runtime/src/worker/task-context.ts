import type { StateEvent } from '@tasks/contracts';
import type { Logger } from '../logging/logger';

/** What a handler gets besides its payload; it knows nothing of AMQP. */
export interface TaskContext {
  readonly taskId: string;
  /** The command routing key, e.g. `task.data.process`. */
  readonly type: string;
  /** 1 on the first attempt. */
  readonly attempt: number;
  /** Aborts on revoke, time limit or shutdown; `signal.reason` is a PlatformError saying which. */
  readonly signal: AbortSignal;
  /** Bound to task_id. */
  readonly log: Logger;
  /**
   * Reports progress. Returns once the PROGRESS event is handed to the publisher, without
   * waiting for the broker's confirm (the command's ack waits for it instead), unless
   * {@link MAX_UNCONFIRMED_PROGRESS} of this run's PROGRESS are unconfirmed: then it waits
   * for this one. Rejects with the publish error once an earlier PROGRESS of the run failed.
   */
  progress(current: number, total: number, status?: string): Promise<void>;
}

/** A worker handler: a plain async function of the payload and the context. */
export type TaskHandler<TPayload, TResult> = (
  payload: TPayload,
  ctx: TaskContext,
) => Promise<TResult>;

/**
 * PROGRESS of one run left unconfirmed before progress() waits: a handler reporting in a
 * tight loop while the broker blocks publishers must not pile up events without bound.
 */
export const MAX_UNCONFIRMED_PROGRESS = 100;

/**
 * `ctx.progress` of one run. `emit` publishes a PROGRESS event and resolves on its confirm; the
 * worker keeps that promise and acks the command only once it (and every other event of the
 * run) resolved, so not waiting here loses no guarantee: the event carries its `seq`, and a
 * failed publish still hands the command back instead of acking it.
 */
export function progressReporter(
  emit: (progress: NonNullable<StateEvent['progress']>) => Promise<void>,
): TaskContext['progress'] {
  let unconfirmed = 0;
  let failure: unknown;
  let failed = false;
  return async (current, total, status) => {
    if (failed) throw failure;
    const confirmed = emit(status === undefined ? { current, total } : { current, total, status });
    unconfirmed += 1;
    void confirmed
      .catch((err: unknown) => {
        if (failed) return;
        failed = true;
        failure = err;
      })
      .finally(() => {
        unconfirmed -= 1;
      });
    if (unconfirmed > MAX_UNCONFIRMED_PROGRESS) await confirmed;
  };
}

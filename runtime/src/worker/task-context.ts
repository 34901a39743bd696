import type { Logger } from '../logging/logger';

/** What a handler gets besides its payload; it knows nothing of AMQP. */
export interface TaskContext {
  readonly taskId: string;
  /** The command routing key, e.g. `task.data.process`. */
  readonly type: string;
  /** 1 on the first attempt (DESIGN §7). */
  readonly attempt: number;
  /** Aborts on revoke, time limit or shutdown; `signal.reason` is a PlatformError saying which. */
  readonly signal: AbortSignal;
  /** Bound to task_id. */
  readonly log: Logger;
  /** Reports progress; resolves once the PROGRESS event is confirmed by the broker. */
  progress(current: number, total: number, status?: string): Promise<void>;
}

/** A worker handler: a plain async function of the payload and the context. */
export type TaskHandler<TPayload, TResult> = (
  payload: TPayload,
  ctx: TaskContext,
) => Promise<TResult>;

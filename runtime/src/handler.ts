/**
 * What a handler module needs, without the rest of the runtime (AMQP, Redis, telemetry): a thread
 * handler loads only this in its thread, so a thread starts in tens of milliseconds, not hundreds.
 */
export {
  DeferError,
  describeError,
  errorCode,
  PermanentError,
  PoisonMessageError,
  RevokedError,
  SoftTimeLimitError,
  TimeLimitError,
} from './errors';
export type { Logger } from './logging/logger';
export { bucketUpperMs, type DayStats } from './store/report-stats';
export type { TaskContext, TaskHandler } from './worker/task-context';
export {
  defineThreadHandler,
  type HostCalls,
  type ThreadHandlerModule,
  type ThreadHandlerRef,
} from './worker/thread-handler';

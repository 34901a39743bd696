/** The typed client of the task platform's HTTP API; see the package README. */
export type {
  CancelResponse,
  DeadLetterListResponse,
  DrainResponse,
  ScheduleListResponse,
  ScheduleView,
  ServiceControlResponse,
  TaskCreatedResponse,
  TaskHistoryEvent,
  TaskHistoryResponse,
  TaskListResponse,
  TaskState,
  TaskStatusResponse,
  ValidationIssue,
  WorkersResponse,
  WorkflowCreatedResponse,
  WorkflowStatusResponse,
  WorkerView,
} from '@tasks/contracts';
export {
  type CallOptions,
  DEFAULT_BASE_URL,
  type ScheduleInput,
  type SubmitOptions,
  type TaskBodies,
  type TaskListFilters,
  TasksClient,
  type TasksClientOptions,
  type TaskTypeName,
  type WaitOptions,
} from './client';
export {
  fieldOf,
  TasksAuthError,
  TasksConnectionError,
  TasksError,
  TasksHttpError,
  TasksNotFoundError,
  TasksTimeoutError,
  TasksUnavailableError,
  TasksValidationError,
} from './errors';
export { type ProgressUpdate, progressOf } from './progress';
export {
  DEFAULT_RETRY_POLICY,
  isRetryableStatus,
  parseRetryAfter,
  type RetryPolicy,
  retryDelayMs,
} from './retry';
export { EventStreamParser, readServerSentEvents, type ServerSentEvent } from './sse';

import type { TaskStatusResponse } from '@tasks/contracts';
import type { TaskRecord } from '@tasks/runtime';

/** The original's `{task_id, status, result, error}`, plus the extra fields clients may use. */
export function toStatusResponse(record: TaskRecord): TaskStatusResponse {
  const result =
    record.result !== null && typeof record.result === 'object' && !Array.isArray(record.result)
      ? (record.result as Record<string, unknown>)
      : null;
  return {
    task_id: record.task_id,
    status: record.state,
    result,
    error: record.error,
    task_type: record.type ?? undefined,
    attempt: record.attempt,
    created_at: record.created_at,
    updated_at: record.updated_at,
    started_at: record.started_at,
    completed_at: record.completed_at,
    eta: record.eta,
    next_retry_at: record.next_retry_at,
    worker: record.worker,
    priority: record.priority,
  };
}

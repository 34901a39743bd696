/** A task's state as a progress reading: what a progress bar shows. */
import type { TaskState, TaskStatusResponse } from '@tasks/contracts';

export interface ProgressUpdate {
  readonly state: TaskState;
  /** Steps done and in all, while the task reports them (PROGRESS); both total at SUCCESS. */
  readonly current: number | undefined;
  readonly total: number | undefined;
  /** 0-100, when known: from current / total, 100 at SUCCESS. */
  readonly percent: number | undefined;
  /** The task's own words about its progress, when it gave some. */
  readonly message: string | undefined;
  readonly task: TaskStatusResponse;
}

export function progressOf(task: TaskStatusResponse): ProgressUpdate {
  const result = task.result as { current?: unknown; total?: unknown; status?: unknown } | null;
  const current = typeof result?.current === 'number' ? result.current : undefined;
  const total = typeof result?.total === 'number' && result.total > 0 ? result.total : undefined;
  const message = typeof result?.status === 'string' ? result.status : undefined;
  if (task.status === 'SUCCESS') {
    return { state: task.status, current: total, total, percent: 100, message, task };
  }
  const reported = task.status === 'PROGRESS' && current !== undefined && total !== undefined;
  return {
    state: task.status,
    current: reported ? current : undefined,
    total: reported ? total : undefined,
    percent: reported ? Math.min(100, Math.floor((current / total) * 100)) : undefined,
    message,
    task,
  };
}

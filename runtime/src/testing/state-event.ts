import type { StateEvent, TaskState } from '@tasks/contracts';

/**
 * A state event of `taskId` for tests: type `task.data.process`, published now by
 * `test-worker`; `extra` replaces or adds any field (type, worker, at, progress, result...).
 */
export function stateEvent(
  taskId: string,
  state: TaskState,
  attempt = 1,
  seq = 0,
  extra: Partial<StateEvent> = {},
): StateEvent {
  return {
    v: 1,
    task_id: taskId,
    type: 'task.data.process',
    state,
    attempt,
    seq,
    at: new Date().toISOString(),
    worker: 'test-worker',
    ...extra,
  };
}

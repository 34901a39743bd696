import type { CommandEnvelope } from '@tasks/contracts';

/**
 * A command for tests: `type` with `payload` for task `taskId`, priority 0, created now;
 * `extra` replaces or adds any field. The payload is taken as it is: a test may send one its
 * task's schema refuses.
 */
export function commandEnvelope(
  taskId: string,
  type: string,
  payload: unknown,
  extra: Partial<CommandEnvelope> = {},
): CommandEnvelope {
  return {
    v: 1,
    task_id: taskId,
    type,
    payload: payload as CommandEnvelope['payload'],
    priority: 0,
    created_at: new Date().toISOString(),
    ...extra,
  };
}

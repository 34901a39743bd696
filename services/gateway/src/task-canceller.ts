/**
 * Cancels a task (DESIGN §7). The revocation is kept in Redis, so a queued or delay-waiting task
 * is skipped when a worker receives it, even after restarts; a running one is told through the
 * `control` exchange and stops at its next signal check. The record turns REVOKED at once, and
 * being terminal, later events of the stopped run cannot change it.
 */
import { type CancelResponse, isTerminal, type TopologyNames } from '@tasks/contracts';
import {
  type ConfirmPublisher,
  describeError,
  type Logger,
  type TaskRecord,
  type TaskStore,
} from '@tasks/runtime';
import { HttpError } from './http-error';

export interface TaskCancellerDeps {
  readonly store: TaskStore;
  readonly publisher: ConfirmPublisher;
  readonly names: TopologyNames;
  readonly revokeTtlS: number;
  readonly log: Logger;
}

/** Seq of the gateway's REVOKED event: above any seq a worker's run reaches. */
const REVOKE_SEQ = Number.MAX_SAFE_INTEGER;

export class TaskCanceller {
  constructor(private readonly deps: TaskCancellerDeps) {}

  /** `visible`: whether the caller may see the task; one it may not is 404, as a missing one. */
  async cancel(
    taskId: string,
    visible: (record: TaskRecord) => boolean = () => true,
  ): Promise<CancelResponse> {
    const { store } = this.deps;
    let record = await store.get(taskId);
    if (!record || !visible(record)) throw new HttpError(404, 'Task not found');
    const previous = record.state;
    await store.revoke(taskId, this.deps.revokeTtlS);
    // A worker may move the task to a new attempt between our read and our write; read again.
    for (let tries = 0; ; tries += 1) {
      if (isTerminal(record.state)) {
        throw new HttpError(400, `Task cannot be cancelled: it is already ${record.state}`);
      }
      const applied = await store.apply({
        v: 1,
        task_id: taskId,
        type: record.type ?? 'unknown',
        state: 'REVOKED',
        attempt: record.attempt,
        seq: REVOKE_SEQ,
        at: new Date().toISOString(),
        worker: 'gateway',
        error: 'Task was revoked',
      });
      if (applied) break;
      const again = await store.get(taskId);
      if (!again || tries >= 3)
        throw new HttpError(409, 'Task changed while being cancelled; try again');
      record = again;
    }
    // Always broadcast: a task read as PENDING may be starting right now.
    await this.deps.publisher
      .publishJson(
        this.deps.names.controlExchange,
        '',
        { kind: 'revoke', task_id: taskId, at: new Date().toISOString() },
        { persistent: false, failFast: true },
      )
      .catch((err: unknown) => {
        this.deps.log.warn('revoke broadcast failed; the task stops at its next delivery check', {
          task_id: taskId,
          err: describeError(err),
        });
      });
    return { message: `Task ${taskId} cancelled`, previous_status: previous };
  }
}

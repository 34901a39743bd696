/**
 * Cancels tasks: for DELETE /tasks/{id} and for a workflow's unfinished steps. The
 * revocation key in Redis makes a queued or delay-waiting command be skipped on delivery, even
 * after restarts; REVOKED in the record is terminal, so a stopped run's late events cannot change
 * it; a broadcast on `control` stops a running task at its next signal check.
 */
import { isTerminal, type TaskState, type TopologyNames } from '@tasks/contracts';
import type { ConfirmPublisher } from '../amqp/confirm-publisher';
import { describeError } from '../errors';
import type { Logger } from '../logging/logger';
import type { TaskRecord, TaskStore } from '../store/task-store';

export interface TaskRevokerDeps {
  readonly store: TaskStore;
  readonly publisher: ConfirmPublisher;
  readonly names: TopologyNames;
  readonly revokeTtlS: number;
  /** The service writing REVOKED, shown as the record's worker. */
  readonly producer: string;
  readonly log: Logger;
}

/** What revoking one task did. */
export type RevokeOutcome =
  | { readonly kind: 'revoked'; readonly previous: TaskState }
  /** No record, or one the caller may not see. */
  | { readonly kind: 'missing' }
  /** Already terminal: nothing was changed. */
  | { readonly kind: 'finished'; readonly state: TaskState };

/** Seq of a REVOKED written from outside the run: above any seq a run reaches. */
const REVOKE_SEQ = Number.MAX_SAFE_INTEGER;

export class TaskRevoker {
  constructor(private readonly deps: TaskRevokerDeps) {}

  /** Revokes each unfinished task; returns the ids it revoked. */
  async revoke(taskIds: readonly string[], reason: string): Promise<string[]> {
    const outcomes = await Promise.all(taskIds.map((id) => this.revokeOne(id, { reason })));
    return taskIds.filter((_, i) => outcomes[i]!.kind === 'revoked');
  }

  /**
   * `visible`: whether the caller may see the task; one it may not is `missing`. The revocation
   * and REVOKED are written in one atomic step (TaskStore.revokeRecord): a Redis error leaves
   * neither, and the caller gets the error. `terminate`: a run in its own thread is stopped by
   * terminating the thread (in-process runs are asked through their signal either way).
   */
  async revokeOne(
    taskId: string,
    options: {
      readonly reason: string;
      readonly visible?: (record: TaskRecord) => boolean;
      readonly terminate?: boolean;
    },
  ): Promise<RevokeOutcome> {
    const { store } = this.deps;
    const record = await store.get(taskId);
    if (!record || !(options.visible?.(record) ?? true)) return { kind: 'missing' };
    if (isTerminal(record.state)) return { kind: 'finished', state: record.state };
    const outcome = await store.revokeRecord(
      {
        v: 1,
        task_id: taskId,
        type: record.type ?? 'unknown',
        state: 'REVOKED',
        attempt: record.attempt,
        seq: REVOKE_SEQ,
        at: new Date().toISOString(),
        worker: this.deps.producer,
        error: options.reason,
      },
      this.deps.revokeTtlS,
    );
    // Broadcast whenever revoked: a task read as PENDING may be starting right now.
    if (outcome.kind === 'revoked') await this.broadcast(taskId, options.terminate === true);
    return outcome;
  }

  private async broadcast(taskId: string, terminate: boolean): Promise<void> {
    await this.deps.publisher
      .publishJson(
        this.deps.names.controlExchange,
        '',
        {
          kind: 'revoke',
          task_id: taskId,
          at: new Date().toISOString(),
          ...(terminate ? { terminate: true } : {}),
        },
        { persistent: false, failFast: true },
      )
      .catch((err: unknown) => {
        this.deps.log.warn('revoke broadcast failed; the task stops at its next delivery check', {
          task_id: taskId,
          err: describeError(err),
        });
      });
  }
}

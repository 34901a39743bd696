/**
 * Revokes workflow steps that have not finished, as DELETE /tasks/{id} does for one task: the
 * revocation key (a queued command is skipped on delivery), REVOKED in the record (terminal, so
 * a stopped run's late events cannot change it), and a broadcast on `control` (a running step
 * stops at its next signal check).
 */
import { isTerminal, type TopologyNames } from '@tasks/contracts';
import type { ConfirmPublisher } from '../amqp/confirm-publisher';
import { describeError } from '../errors';
import type { Logger } from '../logging/logger';
import type { TaskStore } from '../store/task-store';

export interface StepRevokerDeps {
  readonly store: TaskStore;
  readonly publisher: ConfirmPublisher;
  readonly names: TopologyNames;
  readonly revokeTtlS: number;
  /** The service writing REVOKED, shown as the record's worker. */
  readonly producer: string;
  readonly log: Logger;
}

/** Seq of a REVOKED written from outside the run: above any seq a run reaches. */
const REVOKE_SEQ = Number.MAX_SAFE_INTEGER;

export class StepRevoker {
  constructor(private readonly deps: StepRevokerDeps) {}

  /** Revokes each unfinished task; returns the ids it revoked. */
  async revoke(taskIds: readonly string[], reason: string): Promise<string[]> {
    const revoked = await Promise.all(taskIds.map((id) => this.revokeOne(id, reason)));
    return taskIds.filter((_, i) => revoked[i]);
  }

  private async revokeOne(taskId: string, reason: string): Promise<boolean> {
    const { store } = this.deps;
    let record = await store.get(taskId);
    if (record && isTerminal(record.state)) return false;
    await store.revoke(taskId, this.deps.revokeTtlS);
    // A worker may start a new attempt between the read and the write: read again and retry.
    for (let tries = 0; record && tries < 4; tries += 1) {
      const applied = await store.apply({
        v: 1,
        task_id: taskId,
        type: record.type ?? 'unknown',
        state: 'REVOKED',
        attempt: record.attempt,
        seq: REVOKE_SEQ,
        at: new Date().toISOString(),
        worker: this.deps.producer,
        error: reason,
      });
      if (applied) break;
      record = await store.get(taskId);
      if (record && isTerminal(record.state)) return false;
    }
    await this.deps.publisher
      .publishJson(
        this.deps.names.controlExchange,
        '',
        { kind: 'revoke', task_id: taskId, at: new Date().toISOString() },
        { persistent: false, failFast: true },
      )
      .catch((err: unknown) => {
        this.deps.log.warn('revoke broadcast failed; the step stops at its next delivery check', {
          task_id: taskId,
          err: describeError(err),
        });
      });
    return true;
  }
}

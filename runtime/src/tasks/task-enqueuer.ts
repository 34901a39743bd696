/**
 * Puts a new task on its way (DESIGN §3): register PENDING in the read model (so its id is
 * readable at once) → publish the command and wait for the broker's confirm. If the broker does
 * not confirm, the record is removed again and the error is rethrown: a task the caller could
 * not be told about must not linger as an eternal PENDING. Used by the gateway and the scheduler.
 */
import { randomUUID } from 'node:crypto';
import type { CommandEnvelope } from '@tasks/contracts';
import type { CommandPublisher } from '../amqp/command-publisher';
import { errorCode } from '../errors';
import type { TaskStore } from '../store/task-store';

export interface EnqueueRequest {
  readonly type: string;
  readonly payload: Record<string, unknown>;
  /** API priority 0-9; default 0. */
  readonly priority?: number;
  /** Not before this time (countdown / eta). */
  readonly notBefore?: Date;
  /** Reuse an id (idempotent retries, schedule ticks); a fresh UUID otherwise. */
  readonly taskId?: string;
  readonly idempotencyKey?: string;
  readonly schedule?: CommandEnvelope['schedule'];
  /** Who registers it, shown as the record's worker until a worker picks it up. */
  readonly producer: string;
  /** The API key id that owns it (only that key, or admin, may read or cancel it). */
  readonly owner?: string;
}

/**
 * How long a command whose publish timed out stays revoked, in seconds: longer than it can wait
 * in a blocked connection or the delay levels.
 */
const UNKNOWN_OUTCOME_REVOKE_TTL_S = 30 * 86_400;

export class TaskEnqueuer {
  constructor(
    private readonly store: TaskStore,
    private readonly commands: CommandPublisher,
  ) {}

  /** Resolves with the task id once the broker confirmed the command. */
  async enqueue(request: EnqueueRequest): Promise<string> {
    const taskId = request.taskId ?? randomUUID();
    const now = new Date();
    const priority = request.priority ?? 0;
    const notBefore =
      request.notBefore && request.notBefore.getTime() > now.getTime()
        ? request.notBefore
        : undefined;
    const command: CommandEnvelope = {
      v: 1,
      task_id: taskId,
      type: request.type,
      payload: request.payload,
      priority,
      created_at: now.toISOString(),
      ...(notBefore ? { not_before: notBefore.toISOString() } : {}),
      ...(request.idempotencyKey ? { idempotency_key: request.idempotencyKey } : {}),
      ...(request.schedule ? { schedule: request.schedule } : {}),
    };
    await this.store.register({
      v: 1,
      task_id: taskId,
      type: request.type,
      state: 'PENDING',
      attempt: 0,
      seq: 0,
      at: now.toISOString(),
      worker: request.producer,
      created_at: now.toISOString(),
      priority,
      ...(notBefore ? { eta: notBefore.toISOString() } : {}),
      ...(request.owner ? { owner: request.owner } : {}),
    });
    try {
      await this.commands.publish(command, {
        attempt: 1,
        delayMs: notBefore ? notBefore.getTime() - now.getTime() : 0,
        failFast: true,
      });
    } catch (err) {
      // A timeout leaves the outcome unknown: a command written as a memory alarm blocked the
      // connection is routed once the alarm clears. Without an idempotency key no retry reuses
      // this id, so revoke it: a late delivery is skipped, not run for a caller told it failed.
      if (!request.idempotencyKey && errorCode(err) === 'PUBLISH_TIMEOUT') {
        await this.store.revoke(taskId, UNKNOWN_OUTCOME_REVOKE_TTL_S).catch(() => undefined);
      }
      await this.store.forget(taskId).catch(() => undefined);
      throw err;
    }
    return taskId;
  }
}

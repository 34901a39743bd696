/**
 * Puts a new task on its way: register PENDING in the read model (so its id is
 * readable at once) → publish the command and wait for the broker's confirm. A reconnect in
 * progress is waited for (up to the publish timeout) and a command in flight at a connection cut
 * is sent again, so a short cut only delays the answer. If the broker still does not confirm,
 * the record is removed again and the error is rethrown: a task the caller could not be told
 * about must not linger as an eternal PENDING. Used by the gateway and the scheduler.
 *
 * When the caller will not publish the same id again (no `taskId`, no idempotency key), a failed
 * enqueue first revokes the id: a copy the broker did get (the outcome of a timed-out or cut
 * publish is unknown) is skipped by the worker, so nothing runs for a caller told it failed.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { CommandEnvelope } from '@tasks/contracts';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { CommandPublisher } from '../amqp/command-publisher';
import type { TaskStore } from '../store/task-store';

export interface EnqueueRequest {
  readonly type: string;
  readonly payload: Record<string, unknown>;
  /** API priority 0-9; default 0. */
  readonly priority?: number;
  /** Not before this time (countdown / eta). */
  readonly notBefore?: Date;
  /**
   * Reuse an id (idempotent retries, schedule ticks); a fresh UUID otherwise. A caller that
   * gives one publishes it again after a failure, so a failure does not revoke it.
   */
  readonly taskId?: string;
  /**
   * With a key, a failed enqueue leaves the PENDING record for the caller to remove (another
   * request with the key may have published the same id with success).
   */
  readonly idempotencyKey?: string;
  readonly schedule?: CommandEnvelope['schedule'];
  /** Who registers it, shown as the record's worker until a worker picks it up. */
  readonly producer: string;
  /** The API key id that owns it (only that key, or admin, may read or cancel it). */
  readonly owner?: string;
}

/**
 * How long a command whose publish failed stays revoked, in seconds: longer than it can wait in
 * a blocked connection or the delay levels.
 */
export const FAILED_ENQUEUE_REVOKE_TTL_S = 30 * 86_400;

/** Tries to write a revocation this many times before giving up (each one fails fast). */
const REVOKE_ATTEMPTS = 3;

export class TaskEnqueuer {
  constructor(
    private readonly store: TaskStore,
    private readonly commands: CommandPublisher,
    /** Told when a failed enqueue could not be revoked (Redis down too): log it loudly. */
    private readonly onRevokeFailed?: (taskId: string, err: unknown) => void,
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
      ...traceIdField(),
    });
    try {
      await this.commands.publish(command, {
        attempt: 1,
        delayMs: notBefore ? notBefore.getTime() - now.getTime() : 0,
        // Only a resource alarm fails at once; a reconnect is waited for.
        failFast: true,
      });
    } catch (err) {
      // The outcome may be unknown (a timed-out publish, a copy sent before a cut): with no
      // retry reusing this id, revoke it before the caller hears of the failure.
      if (request.taskId === undefined && request.idempotencyKey === undefined) {
        await this.revoke(taskId);
      }
      // With an idempotency key, a concurrent request with the same key may have published the
      // same id with success: its caller decides whether the record goes.
      if (request.idempotencyKey === undefined) {
        await this.store.forget(taskId).catch(() => undefined);
      }
      throw err;
    }
    return taskId;
  }

  /** Writes the revocation, trying a few times: Redis clients here fail fast when offline. */
  private async revoke(taskId: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.store.revoke(taskId, FAILED_ENQUEUE_REVOKE_TTL_S);
        return;
      } catch (err) {
        if (attempt >= REVOKE_ATTEMPTS) {
          this.onRevokeFailed?.(taskId, err);
          return;
        }
        await delay(100 * attempt);
      }
    }
  }
}

/** The trace the enqueue runs in (the request's, when tracing is on), for the task's detail. */
function traceIdField(): { trace_id?: string } {
  const span = trace.getActiveSpan()?.spanContext();
  return span && isSpanContextValid(span) ? { trace_id: span.traceId } : {};
}

/**
 * Outcome: what follows a run. Success and revocation end the task; a transient failure is
 * published again through the delay levels (retry, or a deferral that counts no attempt); a
 * permanent failure or used-up retries end it FAILURE, the latter parked; a hand-back (shutdown)
 * nacks it to the queue. The state events go out first; the ack waits for their confirms.
 */
import type { CommandPublisher } from '../amqp/command-publisher';
import { MessageHeaders } from '../amqp/message-headers';
import type { Settleable } from '../amqp/queue-consumer';
import type { Parking } from './parking';
import type { EncodedEvent } from './state-event-publisher';
import type { Outcome } from './retry-policy';
import type { RunScope } from './run-scope';
import type { DecodedCommand, TaskRun } from './task-run';

/** A run's outcome: the retry policy's verdict on its error, or its SUCCESS event, written. */
export type RunOutcome = Outcome | { readonly kind: 'success'; readonly event: EncodedEvent };

/** How a run ended, as the outcome settler needs it. */
export interface FinishedRun {
  readonly delivery: Settleable;
  readonly job: DecodedCommand;
  readonly run: TaskRun;
  readonly outcome: RunOutcome;
  /** The handler's error, described; undefined on success. */
  readonly error: string | undefined;
  readonly runtimeMs: number;
  /** Its events (each resolves on its confirm) and its logger. */
  readonly scope: RunScope;
}

export interface TaskOutcomesDeps {
  readonly commands: CommandPublisher;
  readonly parking: Parking;
}

/** What settling did with the delivery. */
export type Settled = 'emitted' | 'handed-back';

export class TaskOutcomes {
  constructor(private readonly deps: TaskOutcomesDeps) {}

  /**
   * Publishes what the outcome calls for and emits its state event. Resolves once published
   * (not confirmed); `handed-back` when the delivery was nacked to the queue instead.
   */
  async settle(finished: FinishedRun): Promise<Settled> {
    const { delivery, job, run, outcome, error, runtimeMs, scope } = finished;
    const { command, attempt } = job;
    switch (outcome.kind) {
      case 'success':
        void scope.send(outcome.event).catch(() => undefined);
        return 'emitted';
      case 'revoked':
        void scope
          .emit('REVOKED', { error: 'revoked', runtime_ms: runtimeMs })
          .catch(() => undefined);
        return 'emitted';
      case 'retry': {
        const nextAt = new Date(Date.now() + outcome.delayMs).toISOString();
        await this.deps.commands.publishContent(delivery.message.content, {
          taskId: run.taskId,
          type: run.type,
          priority: command.priority,
          attempt: attempt + 1,
          delayMs: outcome.delayMs,
          headers: carriedHeaders(delivery),
        });
        scope.log.warn('task failed; retrying', { err: error, delay_ms: outcome.delayMs });
        void scope
          .emit('RETRY', { error, next_retry_at: nextAt, runtime_ms: runtimeMs })
          .catch(() => undefined);
        return 'emitted';
      }
      case 'defer': {
        const headers = carriedHeaders(delivery);
        const deferrals = Number(headers[MessageHeaders.deferrals] ?? 0) + 1;
        await this.deps.commands.publishContent(delivery.message.content, {
          taskId: run.taskId,
          type: run.type,
          priority: command.priority,
          attempt,
          delayMs: outcome.delayMs,
          headers: { ...headers, [MessageHeaders.deferrals]: deferrals },
        });
        scope.log.info('task deferred without counting an attempt', {
          err: error,
          delay_ms: outcome.delayMs,
        });
        return 'emitted';
      }
      case 'fail':
        if (outcome.exhausted) {
          await this.deps.parking.publishParked(
            delivery,
            `failed after ${attempt} attempts: ${error ?? ''}`,
            { taskId: run.taskId, type: run.type, attempt },
            'exhausted',
          );
        }
        scope.log.warn('task failed', { err: error, exhausted: outcome.exhausted });
        void scope.emit('FAILURE', { error, runtime_ms: runtimeMs }).catch(() => undefined);
        return 'emitted';
      case 'park':
        await this.deps.parking.publishParked(
          delivery,
          error ?? 'poison message',
          { taskId: run.taskId, type: run.type, attempt },
          'poison',
        );
        void scope.emit('FAILURE', { error, runtime_ms: runtimeMs }).catch(() => undefined);
        return 'emitted';
      case 'requeue':
        return 'handed-back';
    }
  }
}

/** The `task.outcome` span attribute (and metrics label) of a run's outcome. */
export function outcomeName(outcome: RunOutcome): string {
  switch (outcome.kind) {
    case 'success':
      return 'succeeded';
    case 'revoked':
      return 'revoked';
    case 'retry':
      return 'retried';
    case 'defer':
      return 'deferred';
    case 'fail':
      return 'failed';
    case 'park':
      return 'parked';
    case 'requeue':
      return 'requeued';
  }
}

/** Headers a retried or deferred command keeps (trace context, correlation). */
function carriedHeaders(delivery: Settleable): Record<string, unknown> {
  const {
    [MessageHeaders.attempt]: _attempt,
    [MessageHeaders.handedBack]: _handedBack,
    ...rest
  } = (delivery.message.properties.headers ?? {}) as Record<string, unknown>;
  return rest;
}

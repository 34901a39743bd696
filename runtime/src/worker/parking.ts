/**
 * Parking: a message that can never be processed (poison, a crash loop, retries used up) is
 * published to this service's parking queue with the reason, indexed for the dead-letter API,
 * and its task marked FAILURE. Nothing is requeued in a loop; nothing is dropped.
 */
import { deadRoutingKey, type TopologyNames } from '@tasks/contracts';
import type { ConfirmPublisher } from '../amqp/confirm-publisher';
import { MessageHeaders } from '../amqp/message-headers';
import type { Settleable } from '../amqp/queue-consumer';
import { describeError } from '../errors';
import type { Logger } from '../logging/logger';
import type { DeadLetterStore } from '../store/dead-letter-store';
import { Metrics } from '../telemetry/metrics';
import type { StateEventPublisher } from './state-event-publisher';

/** Why a message was parked (the `reason` label of tasks_dead_letters_parked_total). */
export type ParkKind = 'poison' | 'crash_loop' | 'exhausted';

/** What is known of the parked message's task (nothing, for unparseable bytes). */
export interface ParkedTask {
  readonly taskId?: string;
  readonly type?: string;
  readonly attempt: number;
}

export interface ParkingDeps {
  readonly publisher: ConfirmPublisher;
  readonly events: StateEventPublisher;
  readonly deadLetters: DeadLetterStore;
  readonly names: TopologyNames;
  readonly service: string;
  readonly worker: string;
  readonly log: Logger;
}

export class Parking {
  constructor(private readonly deps: ParkingDeps) {}

  /** Parks a message that can never be processed, marks its task FAILURE, then acks. */
  async park(
    delivery: Settleable,
    reason: string,
    task: ParkedTask,
    kind: ParkKind,
  ): Promise<void> {
    await this.publishParked(delivery, reason, task, kind);
    this.deps.log.error('message parked', { task_id: task.taskId, reason });
    if (task.taskId) {
      await this.deps.events.emit({
        v: 1,
        task_id: task.taskId,
        type: task.type ?? 'unknown',
        state: 'FAILURE',
        attempt: task.attempt,
        seq: 0,
        at: new Date().toISOString(),
        worker: this.deps.worker,
        error: reason,
      });
    }
    delivery.ack();
  }

  /**
   * Publishes a copy of the message to this service's parking queue, with the reason, then
   * indexes it for the dead-letter API (best effort: the queue holds the durable copy).
   */
  async publishParked(
    delivery: Settleable,
    reason: string,
    task: ParkedTask,
    kind: ParkKind,
  ): Promise<void> {
    const { message } = delivery;
    const { names, service, worker } = this.deps;
    const parkedAt = new Date().toISOString();
    const headers = {
      ...message.properties.headers,
      [MessageHeaders.parkReason]: reason.slice(0, 1000),
      [MessageHeaders.parkedAt]: parkedAt,
      [MessageHeaders.parkedBy]: worker,
      [MessageHeaders.originalQueue]: names.workQueue(service),
      [MessageHeaders.originalRoutingKey]: message.fields.routingKey,
    };
    await this.deps.publisher.publish(
      names.deadExchange,
      deadRoutingKey(service),
      message.content,
      {
        messageId: message.properties.messageId as string | undefined,
        type: message.properties.type as string | undefined,
        priority: message.properties.priority as number | undefined,
        headers,
      },
    );
    Metrics.deadLettersParked().inc({ service, reason: kind });
    if (!task.taskId) return;
    await this.deps.deadLetters
      .record({
        task_id: task.taskId,
        service,
        type: task.type ?? null,
        reason: reason.slice(0, 1000),
        parked_at: parkedAt,
        parked_by: worker,
        attempt: task.attempt,
        priority: priorityOf(message.content),
        content: message.content.toString('utf8'),
        headers,
      })
      .catch((err: unknown) => {
        this.deps.log.warn('dead letter not indexed; it stays in the parking queue', {
          task_id: task.taskId,
          err: describeError(err),
        });
      });
  }
}

/** The API priority in a command body, 0 when unreadable. */
function priorityOf(content: Buffer): number {
  try {
    const priority = (JSON.parse(content.toString('utf8')) as { priority?: unknown }).priority;
    return typeof priority === 'number' ? priority : 0;
  } catch {
    return 0;
  }
}

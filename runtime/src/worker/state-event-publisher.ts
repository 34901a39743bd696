/**
 * Publishes state events, coalescing those emitted in the same turn of the event loop into one
 * AMQP message (PERFORMANCE.md: broker work per task is the cost to cut). A task that finishes
 * at once sends STARTED and SUCCESS together. Each `emit` resolves when the message carrying it
 * was confirmed, so a command is acked only after its events are safe (DESIGN §5).
 */
import type { Context } from '@opentelemetry/api';
import { domainOf, eventKey, type StateEvent } from '@tasks/contracts';
import type { ConfirmPublisher } from '../amqp/confirm-publisher';
import { TaskAttributes } from '../telemetry/attributes';
import { activeContext, type PublishTrace } from '../telemetry/tracing';

/** Routing key of a message that carries several events. */
export const EVENT_BATCH_KEY = 'task.batch';

interface Pending {
  readonly event: StateEvent;
  /** The trace the event was emitted in (the task's run). */
  readonly context: Context;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class StateEventPublisher {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly publisher: ConfirmPublisher,
    private readonly exchange: string,
    /** Most events in one message. */
    private readonly maxBatch = 200,
  ) {}

  /** Queues an event for the next flush; resolves on the broker's confirm. */
  emit(event: StateEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, context: activeContext(), resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const pending = this.queue;
    this.queue = [];
    for (let i = 0; i < pending.length; i += this.maxBatch) {
      this.send(pending.slice(i, i + this.maxBatch));
    }
  }

  private send(batch: Pending[]): void {
    const first = batch[0];
    if (!first) return;
    const single = batch.length === 1;
    const body = single ? first.event : batch.map((p) => p.event);
    const routingKey = single
      ? eventKey(first.event.state, domainOf(first.event.type))
      : EVENT_BATCH_KEY;
    this.publisher
      .publish(this.exchange, routingKey, Buffer.from(JSON.stringify(body)), {
        type: single ? 'task.event' : 'task.event.batch',
        messageId: single
          ? `${first.event.task_id}:${first.event.attempt}:${first.event.seq}`
          : undefined,
        trace: batchTrace(first, batch),
      })
      .then(
        () => batch.forEach((p) => p.resolve()),
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      );
  }
}

/**
 * A message's trace: the first event's; the other tasks' events of a batch are linked. Task
 * attributes are set when every event of the message belongs to one task.
 */
function batchTrace(first: Pending, batch: readonly Pending[]): PublishTrace {
  const oneTask = batch.every((p) => p.event.task_id === first.event.task_id);
  const others = new Set(batch.map((p) => p.context));
  others.delete(first.context);
  return {
    parent: first.context,
    links: [...others],
    attributes: oneTask
      ? {
          [TaskAttributes.id]: first.event.task_id,
          [TaskAttributes.type]: first.event.type,
          [TaskAttributes.attempt]: first.event.attempt,
          [TaskAttributes.state]: batch.map((p) => p.event.state).join(','),
        }
      : { [TaskAttributes.eventCount]: batch.length },
  };
}

/**
 * Intake: what the worker does with a delivery before it waits for a slot. A lone command goes
 * on as it came; a batch message (COMMAND_BATCH_MAX) is split into its commands, each settled on
 * its own (batch-delivery.ts); a malformed batch is parked whole.
 */
import type { ConsumeMessage } from 'amqplib';
import { isCommandBatch, splitCommandBatch } from '../amqp/command-batch';
import type { ConfirmPublisher } from '../amqp/confirm-publisher';
import { MessageHeaders } from '../amqp/message-headers';
import type { Delivery, Settleable } from '../amqp/queue-consumer';
import { describeError } from '../errors';
import type { Logger } from '../logging/logger';
import { batchParts } from './batch-delivery';
import type { InFlight } from './in-flight';

export interface CommandIntakeDeps {
  readonly publisher: ConfirmPublisher;
  readonly tasksExchange: string;
  readonly inFlight: InFlight;
  readonly log: Logger;
  /** Hands one command on to the concurrency gate. */
  readonly accept: (delivery: Settleable) => void;
  /** Parks a whole message that cannot be split (it is acked once parked). */
  readonly parkMalformed: (delivery: Delivery, reason: string) => Promise<void>;
}

export class CommandIntake {
  constructor(private readonly deps: CommandIntakeDeps) {}

  /** Takes one delivery of the work queue. */
  take(delivery: Delivery): void {
    if (isCommandBatch(delivery.message)) this.takeBatch(delivery);
    else this.deps.accept(delivery);
  }

  private takeBatch(delivery: Delivery): void {
    const parts = splitCommandBatch(delivery.message);
    if (!parts) {
      this.track(
        this.deps.parkMalformed(
          delivery,
          'malformed command batch: body and parts header disagree',
        ),
        delivery,
      );
      return;
    }
    if (delivery.message.fields.redelivered) {
      // One of its commands may have crashed the last worker: hand them back one by one, so
      // a crash loop is counted, and parked, per task instead of taking its neighbours along.
      this.track(
        Promise.all(parts.map((part) => this.republish(part))).then(() => {
          delivery.ack();
        }),
        delivery,
      );
      return;
    }
    const batch = batchParts(delivery, parts, (part) => this.republish(part));
    // In flight until the batch message is settled: a drain must not close its channel first.
    this.track(batch.settled, delivery);
    for (const part of batch.parts) this.deps.accept(part);
  }

  /** Publishes one command of a batch again, alone, as it would have come (confirmed). */
  private republish(part: ConsumeMessage): Promise<void> {
    return this.deps.publisher.publish(
      this.deps.tasksExchange,
      part.fields.routingKey,
      part.content,
      {
        messageId: part.properties.messageId as string | undefined,
        type: part.properties.type as string | undefined,
        priority: part.properties.priority as number | undefined,
        // Seen before: crash loops count it, and a workflow step's run claim does not skip it.
        headers: { ...part.properties.headers, [MessageHeaders.handedBack]: true },
      },
    );
  }

  /** Counts `work` as in flight (drain waits for it); a failure hands the delivery back. */
  private track(work: Promise<void>, delivery: Delivery): void {
    this.deps.inFlight.add(
      work.catch((err: unknown) => {
        this.deps.log.error('command batch handling failed; batch handed back', {
          err: describeError(err),
        });
        delivery.nack(true);
      }),
    );
  }
}

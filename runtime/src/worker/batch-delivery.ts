/**
 * The commands of one batch delivery (amqp/command-batch.ts), each settled on its own by the
 * worker as if it had come alone. The batch message is acked once every command was; a command
 * handed back (nack with requeue: shutdown, a failed handling) is first published again on its
 * own, with confirm. If that publish fails, the whole batch goes back to the queue instead: its
 * finished commands then run again, which at-least-once delivery allows.
 */
import type { ConsumeMessage } from 'amqplib';
import type { Delivery, Settleable } from '../amqp/queue-consumer';
import { IllegalStateError } from '../errors';

/** Publishes one command of a batch again, alone; resolves on the confirm. */
export type Republish = (part: ConsumeMessage) => Promise<void>;

/**
 * The commands of `delivery`, to settle one by one, and a promise that resolves once the batch
 * message itself was settled (a drain waits for it before it closes the channel).
 */
export function batchParts(
  delivery: Delivery,
  parts: readonly ConsumeMessage[],
  republish: Republish,
): { parts: Settleable[]; settled: Promise<void> } {
  let done!: () => void;
  const settled = new Promise<void>((resolve) => {
    done = resolve;
  });
  const settlement = new BatchSettlement(delivery, parts.length, republish, done);
  return { parts: parts.map((message) => new BatchPart(message, settlement)), settled };
}

class BatchSettlement {
  private open: number;
  private readonly handedBack: Promise<void>[] = [];

  constructor(
    private readonly delivery: Delivery,
    count: number,
    private readonly republish: Republish,
    private readonly onSettled: () => void,
  ) {
    this.open = count;
  }

  get live(): boolean {
    return this.delivery.live;
  }

  settle(part: ConsumeMessage, requeue: boolean): void {
    if (requeue) this.handedBack.push(this.republish(part));
    this.open -= 1;
    if (this.open === 0) void this.finish();
  }

  private async finish(): Promise<void> {
    const outcomes = await Promise.allSettled(this.handedBack);
    if (outcomes.every((o) => o.status === 'fulfilled')) this.delivery.ack();
    else this.delivery.nack(true);
    this.onSettled();
  }
}

class BatchPart implements Settleable {
  private settled = false;

  constructor(
    readonly message: ConsumeMessage,
    private readonly batch: BatchSettlement,
  ) {}

  get live(): boolean {
    return this.batch.live;
  }

  ack(): boolean {
    return this.settle(false);
  }

  nack(requeue: boolean): boolean {
    // The broker can dead-letter only the whole message: a command is parked by publishing it.
    if (!requeue) throw new IllegalStateError('a command of a batch cannot be dead-lettered alone');
    return this.settle(true);
  }

  private settle(requeue: boolean): boolean {
    if (this.settled) return false;
    this.settled = true;
    // Its channel closed: the broker hands the whole batch out again, so nothing is published
    // for it, but it still counts, or the batch would stay in flight for ever.
    const live = this.live;
    this.batch.settle(this.message, requeue && live);
    return live;
  }
}

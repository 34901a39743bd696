/**
 * A command's delivery as a run holds it, with any later delivery of the same attempt that came
 * while the run was still going (the broker handed it out again after a consumer timeout or a
 * cut connection). Those are not run a second time: they are settled with the run's outcome,
 * and the one on a live channel is the ack that counts.
 */
import type { ConsumeMessage } from 'amqplib';
import type { Settleable } from '../amqp/queue-consumer';

export class HeldDelivery implements Settleable {
  /** Made on the first adoption: almost no run ever has one. */
  private adopted: Settleable[] | undefined;

  constructor(private readonly first: Settleable) {}

  get message(): ConsumeMessage {
    return this.first.message;
  }

  get live(): boolean {
    return this.first.live || (this.adopted?.some((d) => d.live) ?? false);
  }

  /** Holds another delivery of the same attempt, to settle with this one. */
  adopt(delivery: Settleable): void {
    (this.adopted ??= []).push(delivery);
  }

  ack(): boolean {
    return this.settle((d) => d.ack());
  }

  nack(requeue: boolean): boolean {
    return this.settle((d) => d.nack(requeue));
  }

  private settle(action: (delivery: Settleable) => boolean): boolean {
    let settled = action(this.first);
    for (const delivery of this.adopted ?? []) settled = action(delivery) || settled;
    return settled;
  }
}

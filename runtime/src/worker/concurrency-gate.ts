/**
 * The concurrency gate: at most CONCURRENCY commands run at once; the others wait here,
 * `reserved`, in arrival order (PREFETCH bounds how many the broker hands over).
 *
 * A slot is freed when the handler returned and its events were handed to the publisher, not
 * when they are confirmed, so confirm round trips (which wait for the status store's ack) do not
 * keep the next task from starting.
 */
import type { Settleable } from '../amqp/queue-consumer';

/** Starts one delivery; `release` gives its slot back (idempotent). */
export type StartDelivery = (delivery: Settleable, release: () => void) => void;

export class ConcurrencyGate {
  private slots = 0;
  private reserved: Settleable[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly start: StartDelivery,
    /** False while draining: reserved deliveries are no longer started. */
    private readonly isOpen: () => boolean,
  ) {}

  /** Starts `delivery` now if a slot is free, else reserves it. */
  accept(delivery: Settleable): void {
    if (this.slots >= this.concurrency) {
      this.reserved.push(delivery);
      return;
    }
    this.launch(delivery);
  }

  /** Deliveries received and waiting for a slot, oldest first. */
  get waiting(): readonly Settleable[] {
    return this.reserved;
  }

  /** Removes and returns every waiting delivery (a drain hands them back). */
  takeWaiting(): Settleable[] {
    const waiting = this.reserved;
    this.reserved = [];
    return waiting;
  }

  private launch(delivery: Settleable): void {
    this.slots += 1;
    let released = false;
    this.start(delivery, () => {
      if (released) return;
      released = true;
      this.slots -= 1;
      this.pump();
    });
  }

  /** Starts reserved deliveries while there is room. */
  private pump(): void {
    while (this.isOpen() && this.slots < this.concurrency) {
      const next = this.reserved.shift();
      if (!next) return;
      this.launch(next);
    }
  }
}

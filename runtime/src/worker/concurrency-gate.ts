/**
 * The concurrency gate: at most CONCURRENCY commands run at once; the others wait here,
 * `reserved`, in arrival order, those of the high lane (quorum mode, work-lanes.ts) before the
 * others (PREFETCH bounds how many the broker hands over per lane). A command in
 * crash quarantine (crash-quarantine.ts) runs alone: it waits until nothing else runs, and
 * nothing starts beside it.
 *
 * A slot is freed when the handler returned and its events were handed to the publisher, not
 * when they are confirmed, so confirm round trips (which wait for the status store's ack) do not
 * keep the next task from starting. A waiting delivery whose channel closed meanwhile is dropped
 * unstarted: the broker hands it out again, and running it now would run it twice.
 */
import type { Settleable } from '../amqp/queue-consumer';

/** Starts one delivery; `release` gives its slot back (idempotent). */
export type StartDelivery = (delivery: Settleable, release: () => void, alone: boolean) => void;

interface Waiting {
  readonly delivery: Settleable;
  readonly alone: boolean;
  readonly urgent: boolean;
}

export class ConcurrencyGate {
  private slots = 0;
  private runningAlone = false;
  private reserved: Waiting[] = [];

  constructor(
    private concurrency: number,
    private readonly start: StartDelivery,
    /** False while draining: reserved deliveries are no longer started. */
    private readonly isOpen: () => boolean,
    /** Called for a waiting delivery dropped because its channel closed. */
    private readonly onStale: (delivery: Settleable) => void = () => undefined,
  ) {}

  /**
   * Starts `delivery` as soon as the gate allows; `alone`: with nothing beside it; `urgent`
   * (the high lane): before every waiting delivery that is not.
   */
  accept(delivery: Settleable, alone = false, urgent = false): void {
    const waiting = { delivery, alone, urgent };
    const firstNotUrgent = urgent ? this.reserved.findIndex((w) => !w.urgent) : -1;
    if (firstNotUrgent < 0) this.reserved.push(waiting);
    else this.reserved.splice(firstNotUrgent, 0, waiting);
    this.pump();
  }

  /** Handlers it lets run at once. */
  get limit(): number {
    return this.concurrency;
  }

  /**
   * Lets `concurrency` run at once from now on: a larger limit starts waiting deliveries at once;
   * a smaller one lets the running finish and starts none until fewer than it run.
   */
  setConcurrency(concurrency: number): void {
    this.concurrency = concurrency;
    this.pump();
  }

  /** Starts waiting deliveries again once `isOpen` turned true (a resume). */
  reopen(): void {
    this.pump();
  }

  /** Deliveries received and waiting for a slot, oldest first. */
  get waiting(): Settleable[] {
    return this.reserved.map((w) => w.delivery);
  }

  /** How many deliveries wait for a slot. */
  get waitingCount(): number {
    return this.reserved.length;
  }

  /** Removes and returns every waiting delivery (a drain hands them back). */
  takeWaiting(): Settleable[] {
    const waiting = this.reserved.map((w) => w.delivery);
    this.reserved = [];
    return waiting;
  }

  private launch(next: Waiting): void {
    this.slots += 1;
    this.runningAlone = next.alone;
    let released = false;
    this.start(
      next.delivery,
      () => {
        if (released) return;
        released = true;
        this.slots -= 1;
        if (next.alone) this.runningAlone = false;
        this.pump();
      },
      next.alone,
    );
  }

  /** Starts waiting deliveries while the gate allows. */
  private pump(): void {
    while (this.isOpen() && !this.runningAlone) {
      const next = this.reserved[0];
      if (!next) return;
      if (!next.delivery.live) {
        this.reserved.shift();
        this.onStale(next.delivery);
        continue;
      }
      if (next.alone ? this.slots > 0 : this.slots >= this.concurrency) return;
      this.reserved.shift();
      this.launch(next);
    }
  }
}

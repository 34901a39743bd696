/**
 * Gathers the calls made in one turn of the event loop and answers them with one round trip:
 * the worker's revocation checks of one command batch become one MGET, the PENDING
 * registrations of one turn one script call. ioredis's cost is per command and per argument,
 * and under load these were the largest Redis share of the worker and the producers
 * (bench/README.md). Each call resolves with its own item's answer; a failed round trip rejects
 * every call of it, as the single commands would have failed one by one.
 */

/** When the gathered calls go out: `setImmediate` also gathers other sockets' callbacks of the
 * same poll phase (the gateway's requests), `queueMicrotask` only the current callback's. */
export type TickScheduler = (flush: () => void) => void;

interface Waiting<I, R> {
  readonly item: I;
  readonly resolve: (result: R) => void;
  readonly reject: (err: unknown) => void;
}

export class TickBatcher<I, R> {
  private waiting: Waiting<I, R>[] = [];

  constructor(
    /** Answers every item, in order (one result per item). */
    private readonly send: (items: readonly I[]) => Promise<readonly R[]>,
    private readonly schedule: TickScheduler,
  ) {}

  call(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.waiting.length === 0) this.schedule(() => this.flush());
      this.waiting.push({ item, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.waiting;
    this.waiting = [];
    const fail = (err: unknown): void => {
      for (const w of batch) w.reject(err);
    };
    try {
      this.send(batch.map((w) => w.item)).then((results) => {
        batch.forEach((w, i) => w.resolve(results[i]!));
      }, fail);
    } catch (err) {
      fail(err);
    }
  }
}

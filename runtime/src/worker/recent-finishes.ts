/**
 * The attempts this process finished lately (their events confirmed, the ack sent or dropped).
 * An ack can be lost with its connection after the work was done: the broker hands the command
 * out again, usually to the same process once it reconnects, and the task record may not show
 * the end yet (the status-store was cut too, or lags behind). Remembering the finish here keeps
 * that redelivery from running the task a second time. Bounded by age and by count, so memory
 * stays flat at any throughput; a redelivery after a cut comes within seconds.
 */

export interface RecentFinishesOptions {
  /** How long a finish is remembered, in ms. @default 120000 */
  readonly ttlMs?: number;
  /** Most finishes remembered; the oldest go first. @default 20000 */
  readonly maxEntries?: number;
}

export class RecentFinishes {
  /** `<task id>:<attempt>` → when it finished; Map order is insertion order, oldest first. */
  private readonly finishedAt = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(options: RecentFinishesOptions = {}) {
    this.ttlMs = options.ttlMs ?? 120_000;
    this.maxEntries = options.maxEntries ?? 20_000;
  }

  add(key: string, now = Date.now()): void {
    this.finishedAt.delete(key);
    this.finishedAt.set(key, now);
    this.prune(now);
  }

  has(key: string, now = Date.now()): boolean {
    const at = this.finishedAt.get(key);
    return at !== undefined && now - at <= this.ttlMs;
  }

  get size(): number {
    return this.finishedAt.size;
  }

  private prune(now: number): void {
    for (const [key, at] of this.finishedAt) {
      if (this.finishedAt.size <= this.maxEntries && now - at <= this.ttlMs) return;
      this.finishedAt.delete(key);
    }
  }
}

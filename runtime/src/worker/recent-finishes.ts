/**
 * The attempts this process finished lately (their events confirmed, the ack sent or dropped).
 * An ack can be lost with its connection after the work was done: the broker hands the command
 * out again, usually to the same process once it reconnects, and the task record may not show
 * the end yet (the status-store was cut too, or lags behind). Remembering the finish here keeps
 * that redelivery from running the task a second time.
 *
 * Two generations of task id → highest attempt finished: a finish is remembered for at least
 * `ttlMs` (a redelivery after a cut comes within seconds), or for the newest `maxEntries / 2`
 * finishes when they come faster; memory stays under `maxEntries` at any throughput. Nothing is
 * allocated per finish but the map slot (no timestamp, no key string, no pruning walk).
 */

export interface RecentFinishesOptions {
  /** How long a finish is remembered at least, in ms (at most about twice that). @default 60000 */
  readonly ttlMs?: number;
  /** Most finishes remembered. @default 20000 */
  readonly maxEntries?: number;
}

export class RecentFinishes {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  /** When `current` was started. */
  private since: number;
  private readonly ttlMs: number;
  private readonly perGeneration: number;

  constructor(options: RecentFinishesOptions = {}, now = Date.now()) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.perGeneration = Math.max(1, Math.floor((options.maxEntries ?? 20_000) / 2));
    this.since = now;
  }

  add(taskId: string, attempt: number, now = Date.now()): void {
    this.age(now);
    if (this.current.size >= this.perGeneration) this.rotate(now);
    if ((this.current.get(taskId) ?? 0) < attempt) this.current.set(taskId, attempt);
  }

  /** True when this attempt of the task, or a later one, finished here lately. */
  has(taskId: string, attempt: number, now = Date.now()): boolean {
    this.age(now);
    const finished = Math.max(this.current.get(taskId) ?? 0, this.previous.get(taskId) ?? 0);
    return finished >= attempt;
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** Retires generations older than the time to live. */
  private age(now: number): void {
    const elapsed = now - this.since;
    if (elapsed < this.ttlMs) return;
    // Both generations are past it once the current one is twice as old.
    if (elapsed >= 2 * this.ttlMs) this.current = new Map();
    this.rotate(now);
  }

  private rotate(now: number): void {
    this.previous = this.current;
    this.current = new Map();
    this.since = now;
  }
}

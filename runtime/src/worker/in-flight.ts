/** The work a drain waits for: every delivery being handled, until it is settled. */
export class InFlight {
  private count = 0;
  /** Woken when the count falls to 0. */
  private whenIdle: (() => void) | undefined;
  private readonly settleOne = (): void => {
    this.count -= 1;
    if (this.count > 0) return;
    const wake = this.whenIdle;
    this.whenIdle = undefined;
    wake?.();
  };

  /** Tracks `work` until it settles; it must not reject (callers catch first). */
  add(work: Promise<void>): void {
    this.count += 1;
    // A count, not a set of promises: one `then` per delivery is all it costs.
    void work.then(this.settleOne, this.settleOne);
  }

  get size(): number {
    return this.count;
  }

  /** True when nothing was in flight any more within `ms` (work added meanwhile counts too). */
  async settleWithin(ms: number): Promise<boolean> {
    if (this.count === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const settled = await new Promise<boolean>((resolve) => {
      const previous = this.whenIdle;
      this.whenIdle = () => {
        previous?.();
        resolve(true);
      };
      timer = setTimeout(() => resolve(false), ms);
    });
    clearTimeout(timer);
    return settled;
  }
}

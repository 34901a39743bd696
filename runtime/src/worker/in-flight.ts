/** The work a drain waits for: every delivery being handled, until it is settled. */
export class InFlight {
  private readonly work = new Set<Promise<void>>();

  /** Tracks `work` until it settles; it must not reject (callers catch first). */
  add(work: Promise<void>): void {
    const tracked = work.finally(() => this.work.delete(tracked));
    this.work.add(tracked);
  }

  get size(): number {
    return this.work.size;
  }

  /** True when everything in flight now settled within `ms`. */
  async settleWithin(ms: number): Promise<boolean> {
    const promises = [...this.work];
    if (promises.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const all = Promise.allSettled(promises).then(() => true as const);
    const settled = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return settled;
  }
}

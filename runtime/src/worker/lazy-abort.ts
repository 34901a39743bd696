/**
 * A run's AbortController, made on first use: most runs are never aborted and their handler
 * never reads the signal, and `new AbortController()` per task was ~5 % of the worker's CPU
 * (bench/README.md, profile). Revocation, time limits and shutdown call `abort`; the handler's
 * `ctx.signal` makes it.
 */
export class LazyAbort {
  private controller: AbortController | undefined;

  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  get aborted(): boolean {
    return this.controller?.signal.aborted ?? false;
  }

  /** The abort's reason; undefined while not aborted. */
  get reason(): unknown {
    return this.controller?.signal.reason as unknown;
  }

  abort(reason: unknown): void {
    (this.controller ??= new AbortController()).abort(reason);
  }
}

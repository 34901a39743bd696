/**
 * How long to wait before restarting a child that exited. Pure arithmetic, no timers.
 */

/** Tuning of {@link RestartBackoff}; all durations in milliseconds. */
export interface RestartBackoffOptions {
  /** Delay before the first restart. @default 1000 */
  readonly initialMs?: number;
  /** Upper bound of the delay. @default 30000 */
  readonly maxMs?: number;
  /** A child that ran at least this long is healthy again: the delay starts over. @default 30000 */
  readonly resetAfterMs?: number;
}

/** @default 1000 ms */
export const DEFAULT_RESTART_INITIAL_MS = 1_000;
/** @default 30000 ms */
export const DEFAULT_RESTART_MAX_MS = 30_000;
/** @default 30000 ms */
export const DEFAULT_RESTART_RESET_AFTER_MS = 30_000;

/**
 * Delay before restart number `failures` (1-based) of a series of quick exits:
 * `initialMs * 2^(failures - 1)`, capped at `maxMs`. With the defaults: 1, 2, 4, 8, 16, 30, 30 … s.
 */
export function restartDelayMs(failures: number, options: RestartBackoffOptions = {}): number {
  const initialMs = options.initialMs ?? DEFAULT_RESTART_INITIAL_MS;
  const maxMs = options.maxMs ?? DEFAULT_RESTART_MAX_MS;
  const exponent = Math.max(0, Math.floor(failures) - 1);
  // 2^31 ms is already far above any sensible cap; stop there to stay in safe integers.
  return Math.min(maxMs, initialMs * 2 ** Math.min(exponent, 31));
}

/**
 * The restart delays of one replica. Call {@link next} each time it exits, with how long it ran.
 */
export class RestartBackoff {
  private failures = 0;

  constructor(private readonly options: RestartBackoffOptions = {}) {}

  /**
   * The delay before restarting a child that ran for `uptimeMs`. A run of at least `resetAfterMs`
   * starts the series over at `initialMs`; a shorter one doubles the previous delay.
   */
  next(uptimeMs: number): number {
    const resetAfterMs = this.options.resetAfterMs ?? DEFAULT_RESTART_RESET_AFTER_MS;
    this.failures = uptimeMs >= resetAfterMs ? 1 : this.failures + 1;
    return restartDelayMs(this.failures, this.options);
  }

  /** Quick exits in a row so far (1 after the first exit). */
  get consecutiveFailures(): number {
    return this.failures;
  }
}

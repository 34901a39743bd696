/**
 * What the event applier does when a write keeps failing. A failure is one of three kinds:
 *
 * - `unavailable`: Redis is unreachable, loading, busy or timed out. Retried with backoff; the
 *   events stay unacked. Not the events' fault.
 * - `refused`: Redis answers but refuses the write whatever it is (NOPERM, OOM, READONLY,
 *   MISCONF, too many clients). Retried too, never parked, but logged as an error and shown in
 *   readiness: an operator has to act.
 * - `suspect`: anything else (a reply error for the keys of one task, a bug applying one event).
 *   It may be one poison event holding up everything behind it: after `SUSPECT_TRIES` failures
 *   the batch is applied one event at a time (`isolatePoison`), and an event that still fails
 *   alone is parked with its reason while the rest are applied.
 */
import { setTimeout } from 'node:timers/promises';

export type WriteFailure = 'unavailable' | 'refused' | 'suspect';

/** Failures of one write (a batch, or one event alone) before it counts as poison. */
export const SUSPECT_TRIES = 3;

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

/** Reply errors for a write Redis refuses whatever its keys and values. */
const REFUSED =
  /^(NOPERM|OOM|READONLY|MISCONF|NOREPLICAS)\b|can't run this command|OOM command not allowed|max number of clients/i;
/** Reply errors of a Redis that is not ready yet, or briefly busy. */
const NOT_READY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/;

export function classifyWriteFailure(err: unknown): WriteFailure {
  if (!(err instanceof Error)) return 'suspect';
  if (err.name === 'ReplyError') {
    if (REFUSED.test(err.message)) return 'refused';
    if (NOT_READY.test(err.message)) return 'unavailable';
    return 'suspect';
  }
  // Our own code failing on an event's content: the same every time.
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) {
    return 'suspect';
  }
  // Connection closed, command timed out, retries per request exhausted.
  return 'unavailable';
}

/** The wait after the `failures`-th failure in a row (0-based), doubling up to 5 s. */
export function retryWaitMs(failures: number): number {
  return Math.min(RETRY_MIN_MS * 2 ** failures, RETRY_MAX_MS);
}

export interface IsolationHooks<T> {
  /** Writes one unit alone. */
  readonly apply: (unit: T) => Promise<void>;
  /** Every failure (the caller logs it and keeps readiness). */
  readonly onFailure: (err: unknown, kind: WriteFailure) => void;
  /** True once the applier is stopping: the current unit's error is rethrown. */
  readonly stopping: () => boolean;
}

/**
 * Writes `units` one at a time, in order. A unit is retried while its failure is `unavailable`
 * or `refused` (never parked for Redis's state); one that fails `SUSPECT_TRIES` times in a row
 * as `suspect` is given up. Returns the units given up, with the last error's message.
 *
 * @throws the last error when the applier starts stopping while a unit still fails
 */
export async function isolatePoison<T>(
  units: readonly T[],
  hooks: IsolationHooks<T>,
): Promise<{ unit: T; reason: string }[]> {
  const poison: { unit: T; reason: string }[] = [];
  for (const unit of units) {
    for (let failures = 0, suspect = 0; ; failures += 1) {
      try {
        await hooks.apply(unit);
        break;
      } catch (err) {
        if (hooks.stopping()) throw err;
        const kind = classifyWriteFailure(err);
        hooks.onFailure(err, kind);
        suspect = kind === 'suspect' ? suspect + 1 : 0;
        if (suspect >= SUSPECT_TRIES) {
          poison.push({ unit, reason: err instanceof Error ? err.message : String(err) });
          break;
        }
        await setTimeout(retryWaitMs(failures));
      }
    }
  }
  return poison;
}

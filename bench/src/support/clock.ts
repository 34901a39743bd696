/**
 * One clock for every process of a benchmark: CLOCK_MONOTONIC (process.hrtime), shared by all
 * processes of the machine, so a stamp taken in a worker compares with one taken here.
 */

/** Milliseconds on the machine-wide monotonic clock, with sub-millisecond precision. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Resolves after `ms` (the benchmark's pacing and settling; tests wait on conditions instead). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

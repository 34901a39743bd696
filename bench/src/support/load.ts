/** Load shapes: closed loop with bounded concurrency, and open loop at a fixed offered rate. */
import { nowMs, pause } from './clock';

/**
 * Runs `task(i)` for i in [0, n) with at most `concurrency` in flight. Rejects with the first
 * failure once the tasks already started have settled.
 */
export async function bounded(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < n) {
      const i = next;
      next += 1;
      try {
        await task(i);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
  if (failure !== undefined) throw asError(failure);
}

export interface PacedResult {
  /** How late the generator started calls, at worst (ms); large values mean the client lagged. */
  readonly maxLagMs: number;
}

/**
 * Open loop: starts `task(i)` at `start + i / rate`, whether or not earlier calls finished
 * (so a slow system cannot slow the offered load down). Resolves when every call settled.
 */
export async function paced(
  n: number,
  ratePerS: number,
  task: (i: number) => Promise<void>,
): Promise<PacedResult> {
  const start = nowMs();
  const intervalMs = 1000 / ratePerS;
  const running: Promise<void>[] = [];
  let failure: unknown;
  let maxLagMs = 0;
  let i = 0;
  while (i < n && failure === undefined) {
    const now = nowMs();
    while (i < n && start + i * intervalMs <= now) {
      maxLagMs = Math.max(maxLagMs, now - (start + i * intervalMs));
      running.push(
        task(i).catch((err: unknown) => {
          failure ??= err;
        }),
      );
      i += 1;
    }
    if (i < n) await pause(Math.max(0, Math.min(1, start + i * intervalMs - nowMs())));
  }
  await Promise.all(running);
  if (failure !== undefined) throw asError(failure);
  return { maxLagMs };
}

/** `err` as an Error (a rejection may carry anything). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Binary delay levels (the NServiceBus scheme; docs/ARCHITECTURE.md, "Delays"): level n is a queue whose messages wait
 * `unit * 2^n` ms. A delay of k units is k's binary digits: the message visits exactly the levels
 * whose bit is set, highest first, then reaches its destination queue. Every message in one level
 * waits the same time, so a queue's head always expires first: no head-of-line blocking.
 *
 * The routing key carries the plan: `b(L-1). ... .b1.b0.<destination queue>`.
 */

export interface DelayOptions {
  /** Wait of level 0, in milliseconds. */
  readonly unitMs: number;
  /** Number of levels; the longest delay is `unitMs * (2^levels - 1)`. */
  readonly levels: number;
}

/** The longest delay the levels can express, in milliseconds. */
export const maxDelayMs = (o: DelayOptions): number => o.unitMs * (2 ** o.levels - 1);

/** Whole units for a delay: rounded up (never early), clamped to what the levels hold. */
export function delayUnits(delayMs: number, o: DelayOptions): number {
  if (!(delayMs > 0)) return 0;
  return Math.min(Math.ceil(delayMs / o.unitMs), 2 ** o.levels - 1);
}

/** `b(L-1). ... .b0.<destination>` for a delay of `units`. */
export function delayRoutingKey(units: number, destinationQueue: string, o: DelayOptions): string {
  const bits: string[] = [];
  for (let level = o.levels - 1; level >= 0; level -= 1) {
    bits.push(Math.floor(units / 2 ** level) % 2 === 1 ? '1' : '0');
  }
  return `${bits.join('.')}.${destinationQueue}`;
}

/** The topic pattern that selects messages whose bit at `level` is `bit`. */
export function levelPattern(level: number, bit: 0 | 1, o: DelayOptions): string {
  const before = Array.from({ length: o.levels - 1 - level }, () => '*');
  return [...before, String(bit), '#'].join('.');
}

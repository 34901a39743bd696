import { RestartBackoff, restartDelayMs } from '../src/restart-backoff';

describe('restartDelayMs', () => {
  it('starts at 1 s, doubles, and stays at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map((n) => restartDelayMs(n))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('honours custom bounds and treats 0 failures like the first', () => {
    expect(restartDelayMs(0)).toBe(1_000);
    expect(restartDelayMs(3, { initialMs: 50, maxMs: 150 })).toBe(150);
    expect(restartDelayMs(2, { initialMs: 50, maxMs: 150 })).toBe(100);
  });

  it('stays finite for a very long series', () => {
    expect(restartDelayMs(10_000)).toBe(30_000);
    expect(restartDelayMs(10_000, { maxMs: Number.MAX_SAFE_INTEGER })).toBe(1_000 * 2 ** 31);
  });
});

describe('RestartBackoff', () => {
  it('doubles while the child keeps exiting quickly', () => {
    const backoff = new RestartBackoff();
    const delays = Array.from({ length: 7 }, () => backoff.next(500));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(backoff.consecutiveFailures).toBe(7);
  });

  it('starts over at 1 s once a child stayed up 30 s', () => {
    const backoff = new RestartBackoff();
    backoff.next(100);
    backoff.next(100);
    expect(backoff.next(29_999)).toBe(4_000);
    expect(backoff.next(30_000)).toBe(1_000);
    expect(backoff.next(10)).toBe(2_000);
  });

  it('uses the reset threshold it is given', () => {
    const backoff = new RestartBackoff({ initialMs: 10, maxMs: 1_000, resetAfterMs: 100 });
    expect([backoff.next(0), backoff.next(99), backoff.next(100)]).toEqual([10, 20, 10]);
  });
});

import { TASK_STATES, TERMINAL_STATES } from '@tasks/contracts';
import { isTerminalState } from '../src/terminal';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelayMs } from '../src/retry';
import { fieldOf } from '../src/errors';

describe('retry policy', () => {
  const policy = { retries: 4, baseDelayMs: 100, maxDelayMs: 1000 };

  it('reads Retry-After as seconds or as an HTTP date, and ignores garbage', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('waits what Retry-After says, never more than maxDelayMs', () => {
    expect(retryDelayMs(policy, 0, 700)).toBe(700);
    expect(retryDelayMs(policy, 3, 5000)).toBe(1000);
  });

  it('backs off exponentially with full jitter, capped, without Retry-After', () => {
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 4].map((n) => retryDelayMs(policy, n, undefined, top))).toEqual([
      99, 199, 399, 799, 999,
    ]);
    expect(retryDelayMs(policy, 2, undefined, () => 0)).toBe(0);
    expect(DEFAULT_RETRY_POLICY.retries).toBeGreaterThan(0);
  });

  it('names a 422 issue by its field without the body prefix', () => {
    expect(fieldOf({ loc: ['body', 'data', 'records'], msg: 'x', type: 'x' })).toBe('data.records');
    expect(fieldOf({ loc: ['body'], msg: 'x', type: 'missing' })).toBe('body');
    expect(fieldOf({ loc: ['query', 'terminate'], msg: 'x', type: 'x' })).toBe('terminate');
  });
});

describe('isTerminalState', () => {
  it('is the contracts TERMINAL_STATES, without loading contracts at run time', () => {
    for (const state of TASK_STATES) {
      expect(isTerminalState(state)).toBe(TERMINAL_STATES.has(state));
    }
  });
});

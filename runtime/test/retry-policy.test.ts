/**
 * The retry decision: the wait before attempt n+1 is base * factor^(n-1) plus jitter,
 * capped; the error's `code` decides between retry, fail, defer, park, revoked and requeue.
 */
import fc from 'fast-check';
import {
  DeferError,
  PermanentError,
  PoisonMessageError,
  RevokedError,
  ShutdownError,
  SoftTimeLimitError,
  TimeLimitError,
} from '../src/errors';
import { backoffMs, classify, type RetryPolicyConfig } from '../src/worker/retry-policy';

const policy: RetryPolicyConfig = {
  baseMs: 10_000,
  factor: 2,
  jitter: 0,
  maxDelayMs: 3_600_000,
  maxRetries: 3,
};
const noJitter = (): number => 0;

describe('backoffMs', () => {
  it('waits 10 s, 20 s and 40 s after attempts 1, 2 and 3', () => {
    expect([1, 2, 3].map((attempt) => backoffMs(attempt, policy))).toEqual([
      10_000, 20_000, 40_000,
    ]);
  });

  it('adds at most the jitter fraction of the wait, never less than the wait', () => {
    const jittered = { ...policy, jitter: 0.1 };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const base = 10_000 * 2 ** (attempt - 1);
          const wait = backoffMs(attempt, jittered, () => r);
          expect(wait).toBeGreaterThanOrEqual(base);
          expect(wait).toBeLessThanOrEqual(base * 1.1);
        },
      ),
    );
  });

  it('spreads the wait with the injected random number', () => {
    const jittered = { ...policy, jitter: 0.1 };
    expect(backoffMs(1, jittered, () => 0)).toBe(10_000);
    expect(backoffMs(1, jittered, () => 0.5)).toBe(10_500);
  });

  it('caps the wait at maxDelayMs, jitter included', () => {
    const capped = { ...policy, jitter: 0.5, maxDelayMs: 30_000 };
    expect(backoffMs(2, capped, noJitter)).toBe(20_000);
    expect(backoffMs(3, capped, noJitter)).toBe(30_000);
    expect(backoffMs(2, capped, () => 0.99)).toBe(29_900);
    expect(backoffMs(20, capped, () => 0.99)).toBe(30_000);
  });

  it('treats an attempt below 1 as the first', () => {
    expect(backoffMs(0, policy)).toBe(10_000);
  });
});

describe('classify', () => {
  it('fails a PermanentError at once, even with retries left', () => {
    expect(classify(new PermanentError('bad input'), 1, policy)).toEqual({
      kind: 'fail',
      exhausted: false,
    });
  });

  it('retries a transient error with the backoff of its attempt while retries remain', () => {
    expect(classify(new Error('ECONNRESET'), 1, policy, undefined, noJitter)).toEqual({
      kind: 'retry',
      delayMs: 10_000,
    });
    expect(classify(new Error('ECONNRESET'), 3, policy, undefined, noJitter)).toEqual({
      kind: 'retry',
      delayMs: 40_000,
    });
  });

  it('fails as exhausted once the retries are used up', () => {
    expect(classify(new Error('ECONNRESET'), 4, policy)).toEqual({ kind: 'fail', exhausted: true });
    expect(classify(new Error('x'), 1, { ...policy, maxRetries: 0 })).toEqual({
      kind: 'fail',
      exhausted: true,
    });
  });

  it('retries a hard time limit and a soft time limit like any transient error', () => {
    expect(classify(new TimeLimitError(5000), 1, policy, undefined, noJitter)).toEqual({
      kind: 'retry',
      delayMs: 10_000,
    });
    const soft = new SoftTimeLimitError(1000);
    expect(classify(soft, 2, policy, soft, noJitter)).toEqual({ kind: 'retry', delayMs: 20_000 });
  });

  it('defers a DeferError by its own delay, whatever the attempt', () => {
    expect(classify(new DeferError('breaker open', 1234), 1, policy)).toEqual({
      kind: 'defer',
      delayMs: 1234,
    });
    expect(classify(new DeferError('breaker open', 50), 99, policy)).toEqual({
      kind: 'defer',
      delayMs: 50,
    });
  });

  it('parks a PoisonMessageError', () => {
    expect(classify(new PoisonMessageError('bad'), 1, policy)).toEqual({ kind: 'park' });
  });

  it('lets a revocation reason win over the error the handler threw while stopping', () => {
    const reason = new RevokedError('t-1');
    expect(classify(new Error('aborted'), 1, policy, reason)).toEqual({ kind: 'revoked' });
    expect(classify(new PermanentError('x'), 1, policy, reason)).toEqual({ kind: 'revoked' });
    expect(classify(new Error('aborted'), 4, policy, reason)).toEqual({ kind: 'revoked' });
  });

  it('treats a thrown RevokedError as revoked', () => {
    expect(classify(new RevokedError('t-1'), 1, policy)).toEqual({ kind: 'revoked' });
  });

  it('requeues on shutdown, as abort reason or thrown', () => {
    expect(classify(new Error('aborted'), 1, policy, new ShutdownError())).toEqual({
      kind: 'requeue',
    });
    expect(classify(new ShutdownError(), 4, policy)).toEqual({ kind: 'requeue' });
  });

  it('ignores an abort reason that is neither revocation nor shutdown', () => {
    expect(classify(new PermanentError('x'), 1, policy, new TimeLimitError(10))).toEqual({
      kind: 'fail',
      exhausted: false,
    });
  });

  describe('by code', () => {
    it('classifies plain objects carrying a platform code', () => {
      expect(classify({ code: 'TASK_PERMANENT' }, 1, policy)).toEqual({
        kind: 'fail',
        exhausted: false,
      });
      expect(classify({ code: 'TASK_POISON' }, 1, policy)).toEqual({ kind: 'park' });
      expect(classify({ code: 'TASK_DEFER', delayMs: 700 }, 1, policy)).toEqual({
        kind: 'defer',
        delayMs: 700,
      });
      expect(classify(new Error('x'), 1, policy, { code: 'TASK_REVOKED' })).toEqual({
        kind: 'revoked',
      });
      expect(classify(new Error('x'), 1, policy, { code: 'TASK_SHUTDOWN' })).toEqual({
        kind: 'requeue',
      });
    });

    it('classifies an error of another realm by its code, not its class', () => {
      class ForeignPermanentError extends Error {
        readonly code = 'TASK_PERMANENT';
      }
      expect(classify(new ForeignPermanentError('x'), 1, policy)).toEqual({
        kind: 'fail',
        exhausted: false,
      });
    });

    it('defers by the base wait when a defer code carries no delay', () => {
      expect(classify({ code: 'TASK_DEFER' }, 1, policy)).toEqual({
        kind: 'defer',
        delayMs: policy.baseMs,
      });
    });

    it('retries an error whose code is not the platform’s', () => {
      const err = Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      expect(classify(err, 1, policy, undefined, noJitter)).toEqual({
        kind: 'retry',
        delayMs: 10_000,
      });
      expect(classify('a string', 1, policy, undefined, noJitter).kind).toBe('retry');
      expect(classify(null, 1, policy, undefined, noJitter).kind).toBe('retry');
    });
  });
});

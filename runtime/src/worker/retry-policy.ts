/**
 * What happens after a handler throws, decided in one place (handlers only throw).
 * The wait before attempt n+1 is `base * factor^(n-1)` plus up to `jitter` of it, capped:
 * 10, 20, 40 s with the defaults.
 */
import { errorCode } from '../errors';

export interface RetryPolicyConfig {
  readonly baseMs: number;
  readonly factor: number;
  /** Fraction of the delay added at random (0.1 = up to +10 %). */
  readonly jitter: number;
  readonly maxDelayMs: number;
  /** Retries after the first attempt; attempts = maxRetries + 1. */
  readonly maxRetries: number;
}

export type Outcome =
  | { readonly kind: 'retry'; readonly delayMs: number }
  | { readonly kind: 'defer'; readonly delayMs: number }
  | { readonly kind: 'fail'; readonly exhausted: boolean }
  | { readonly kind: 'park' }
  | { readonly kind: 'revoked' }
  | { readonly kind: 'requeue' };

/** The wait before the attempt after `failedAttempt`, in milliseconds. */
export function backoffMs(
  failedAttempt: number,
  policy: RetryPolicyConfig,
  random: () => number = Math.random,
): number {
  const base = policy.baseMs * policy.factor ** Math.max(0, failedAttempt - 1);
  const withJitter = base + base * policy.jitter * random();
  return Math.round(Math.min(withJitter, policy.maxDelayMs));
}

/**
 * Classifies a handler's error. `abortReason` is the task signal's reason when it aborted
 * (revocation or shutdown win over whatever the handler threw while stopping).
 */
export function classify(
  err: unknown,
  attempt: number,
  policy: RetryPolicyConfig,
  abortReason?: unknown,
  random?: () => number,
): Outcome {
  const reason = errorCode(abortReason);
  if (reason === 'TASK_REVOKED') return { kind: 'revoked' };
  if (reason === 'TASK_SHUTDOWN') return { kind: 'requeue' };
  switch (errorCode(err)) {
    case 'TASK_REVOKED':
      return { kind: 'revoked' };
    case 'TASK_SHUTDOWN':
      return { kind: 'requeue' };
    case 'TASK_PERMANENT':
      return { kind: 'fail', exhausted: false };
    case 'TASK_POISON':
      return { kind: 'park' };
    case 'TASK_DEFER': {
      const delayMs = (err as { delayMs?: unknown }).delayMs;
      return { kind: 'defer', delayMs: typeof delayMs === 'number' ? delayMs : policy.baseMs };
    }
    default:
      return attempt <= policy.maxRetries
        ? { kind: 'retry', delayMs: backoffMs(attempt, policy, random) }
        : { kind: 'fail', exhausted: true };
  }
}

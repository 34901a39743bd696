/**
 * When to retry a request and how long to wait first: 503 and 429 (the gateway's "not now"
 * answers) and connection failures, with exponential backoff and full jitter, or exactly what
 * the answer's Retry-After says. Pure functions, so the policy is testable without a server.
 */

export interface RetryPolicy {
  /** Retries after the first try; 0 turns retrying off. @default 4 */
  readonly retries: number;
  /** The first backoff's ceiling, in ms; it doubles per retry. @default 250 */
  readonly baseDelayMs: number;
  /** The longest wait between two tries, Retry-After included. @default 30000 */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 4,
  baseDelayMs: 250,
  maxDelayMs: 30_000,
};

/** Status codes that mean "try again later". */
export const isRetryableStatus = (status: number): boolean => status === 503 || status === 429;

/**
 * Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable.
 * `now` is for tests.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The wait before retry number `retry` (0 for the first): Retry-After when the answer gave one,
 * else a random share of `baseDelayMs * 2^retry` (full jitter, so many clients spread out),
 * never more than `maxDelayMs`.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  retry: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxDelayMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

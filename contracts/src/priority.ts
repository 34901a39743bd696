/**
 * API priorities run 0-9 (Celery's range, 9 first). Classic queues pay for every priority level
 * on each consume (measured: 10 levels cost 4x), so the broker gets 5 levels: each pair of
 * API priorities shares one, which keeps "higher number runs first" between pairs.
 */
export const API_MAX_PRIORITY = 9;
export const BROKER_PRIORITY_LEVELS = 5;

/** Maps an API priority (0-9) to the broker's (0..BROKER_PRIORITY_LEVELS-1). */
export function brokerPriority(apiPriority: number): number {
  const clamped = Math.min(API_MAX_PRIORITY, Math.max(0, Math.trunc(apiPriority)));
  return Math.round((clamped * (BROKER_PRIORITY_LEVELS - 1)) / API_MAX_PRIORITY);
}

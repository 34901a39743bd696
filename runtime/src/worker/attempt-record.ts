/**
 * What the task's record says of one attempt of it, read before a redelivered command runs:
 * nothing may run twice for bookkeeping reasons (a lost ack, a batch handed back whole).
 */
import { isTerminal, type TaskState } from '@tasks/contracts';
import type { Redis } from '../redis/redis-client';
import type { RedisKeys } from '../store/redis-keys';

/**
 * `open`: run it. `ended`: the task reached a terminal state. `superseded`: a later attempt
 * started, or this one already ended in a retry (running it again would start a second chain).
 */
export type AttemptStatus = 'open' | 'ended' | 'superseded';

export async function attemptStatus(
  redis: Redis,
  keys: RedisKeys,
  taskId: string,
  attempt: number,
): Promise<AttemptStatus> {
  const [state, recorded] = await redis.hmget(keys.task(taskId), 'state', 'attempt');
  if (!state) return 'open';
  if (isTerminal(state as TaskState)) return 'ended';
  const recordedAttempt = Number(recorded);
  if (recordedAttempt > attempt) return 'superseded';
  if (state === 'RETRY' && recordedAttempt >= attempt) return 'superseded';
  return 'open';
}

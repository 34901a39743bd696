/**
 * Dead letters written the way a worker parks them (the entry and its index in Redis), for the
 * tests that list and replay them without first driving a worker into a crash loop
 * (system-test/faults/dead-letters.test.ts does that). The command is sound, so a replay runs it.
 */
import { type TaskTypeSpec } from '@tasks/contracts';
import { RedisKeys } from '@tasks/runtime';
import type { TestPlatform } from './test-platform';

export async function parkCommand(
  platform: TestPlatform,
  spec: Pick<TaskTypeSpec, 'routingKey' | 'service'>,
  taskId: string,
  payload: Record<string, unknown>,
  reason = 'killed its worker 2 times running alone (crash loop)',
): Promise<void> {
  const keys = new RedisKeys(platform.ns.redisPrefix);
  const entry = {
    task_id: taskId,
    service: spec.service,
    type: spec.routingKey,
    reason,
    parked_at: new Date().toISOString(),
    parked_by: `${spec.service}@test`,
    attempt: 1,
    priority: 0,
    headers: {},
    content: JSON.stringify({
      v: 1,
      task_id: taskId,
      type: spec.routingKey,
      payload,
      priority: 0,
      created_at: new Date().toISOString(),
    }),
  };
  await platform.ns.redis.hset(keys.deadLettersOf(spec.service), taskId, JSON.stringify(entry));
  await platform.ns.redis.zadd(keys.deadLetterIndexOf(spec.service), Date.now(), taskId);
}

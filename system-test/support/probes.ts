/**
 * Looks behind the HTTP API of a running TestPlatform: task records and worker heartbeats in
 * Redis, queue depths, mail files; and raw publishes onto its exchanges. For assertions the API
 * alone cannot make (e.g. "this cancelled task never ran").
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { eventKey, type TaskState } from '@tasks/contracts';
import { waitFor } from '@tasks/runtime/testing';
import type { TestPlatform } from './test-platform';

/**
 * Waits until every running gateway is connected to the broker. A gateway listens (and logs
 * "gateway listening") before its broker connection is up, answering 503 to creates meanwhile.
 */
export async function gatewayConnected(platform: TestPlatform): Promise<void> {
  for (const gateway of platform.running('gateway')) {
    await gateway.waitForLog('amqp connected', { fields: { connection: 'gateway.publish' } });
  }
}

/** Task records the platform holds (one Redis hash per task). */
export async function taskRecordCount(platform: TestPlatform): Promise<number> {
  const { redis, redisPrefix } = platform.ns;
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}task:*`, 'COUNT', 1000);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  return count;
}

/** `.eml` files the email worker wrote for a task (MAIL_DIR, named after the Message-ID). */
export async function mailFiles(platform: TestPlatform, taskId: string): Promise<string[]> {
  try {
    const names = await readdir(join(platform.workDir, 'mail'));
    return names.filter((name) => name.includes(taskId) && name.endsWith('.eml'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

interface RegistryEntry {
  readonly worker: string;
  readonly service: string;
  readonly at: string;
  readonly interval_ms: number;
  readonly offline?: boolean;
  readonly active: { task_id: string }[];
  readonly reserved: { task_id: string }[];
}

/** Every worker's last heartbeat, as the status-store recorded it. */
export async function workerEntries(platform: TestPlatform): Promise<RegistryEntry[]> {
  const all = await platform.ns.redis.hgetall(`${platform.ns.redisPrefix}workers`);
  return Object.values(all).map((raw) => JSON.parse(raw) as RegistryEntry);
}

/** How late a delayed command may reach its work queue after its due time (delay-level hops). */
const DELAY_SLACK_MS = 1000;

/**
 * Waits until a task's command, due at `dueAt`, has been delivered to a worker of `service` and
 * handled: its time (plus the delay levels' slack) has passed, the work queue is empty, and a
 * heartbeat sent after that shows no worker of the service holding it (active or reserved).
 * The delay queues are not checked: other tasks' countdowns may still wait there.
 */
export async function waitUntilHandled(
  platform: TestPlatform,
  service: string,
  taskId: string,
  dueAt: string | null,
  timeoutMs = 20_000,
): Promise<void> {
  const { ns } = platform;
  const dueMs = dueAt ? Date.parse(dueAt) : 0;
  let drainedAt = 0;
  await waitFor(
    async () => {
      if (Date.now() < dueMs + DELAY_SLACK_MS) return false;
      if ((await ns.depth(ns.names.workQueue(service))) > 0) {
        drainedAt = 0;
        return false;
      }
      drainedAt ||= Date.now();
      const workers = (await workerEntries(platform)).filter(
        (w) =>
          w.service === service && !w.offline && Date.now() - Date.parse(w.at) < 3 * w.interval_ms,
      );
      return (
        workers.length > 0 &&
        workers.every(
          (w) =>
            Date.parse(w.at) > drainedAt &&
            ![...w.active, ...w.reserved].some((t) => t.task_id === taskId),
        )
      );
    },
    { timeoutMs, intervalMs: 50, message: `${service} handles ${taskId}` },
  );
}

/** A state event as a worker would publish it (for tests of the status-store's rules). */
export interface RawEvent {
  readonly task_id: string;
  readonly type: string;
  readonly state: TaskState;
  readonly attempt: number;
  readonly seq: number;
  readonly [key: string]: unknown;
}

/** Publishes state events straight to the events exchange (confirmed). */
export async function publishEvents(platform: TestPlatform, events: RawEvent[]): Promise<void> {
  for (const event of events) {
    const domain = event.type.split('.')[1] ?? 'unknown';
    await platform.ns.publish(
      platform.ns.names.eventsExchange,
      eventKey(event.state, domain),
      JSON.stringify({ v: 1, at: new Date().toISOString(), worker: 'system-test', ...event }),
      { contentType: 'application/json' },
    );
  }
}

/**
 * Waits until the status-store has applied everything published to it so far: a PENDING event
 * for a fresh marker id goes through the same queue, behind the others, and becomes readable.
 */
export async function waitForStatusStore(platform: TestPlatform, marker: string): Promise<void> {
  await publishEvents(platform, [
    { task_id: marker, type: 'task.data.process', state: 'PENDING', attempt: 0, seq: 0 },
  ]);
  await waitFor(async () => (await platform.request('GET', `/tasks/${marker}`)).status === 200, {
    timeoutMs: 10_000,
    message: `status-store applies marker ${marker}`,
  });
}

/**
 * Each service's control state (paused, concurrency), as operators set it through the gateway,
 * and a short audit list of the control actions. The gateway writes; every worker reads its
 * service's state when it starts and whenever its control consumer (re)connects, so a pause
 * holds across restarts and for new replicas, and a change broadcast while a worker was cut off
 * is still applied.
 */
import { DEFAULT_SERVICE_CONTROL, ServiceControlState, WorkerActionRecord } from '@tasks/contracts';
import type { Redis } from '../redis/redis-client';
import { RedisKeys } from './redis-keys';

/** Control actions kept in the audit list. */
export const WORKER_ACTIONS_KEPT = 50;

export class WorkerControlStore {
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  /** The service's state; the default (running, its own concurrency) when never set or unreadable. */
  async read(service: string): Promise<ServiceControlState> {
    return parseState(await this.redis.hget(this.keys.workerControl, service));
  }

  /** Every service's state that was ever set, by service. */
  async readAll(): Promise<Map<string, ServiceControlState>> {
    const all = await this.redis.hgetall(this.keys.workerControl);
    return new Map(Object.entries(all).map(([service, raw]) => [service, parseState(raw)]));
  }

  async write(service: string, state: ServiceControlState): Promise<void> {
    await this.redis.hset(this.keys.workerControl, service, JSON.stringify(state));
  }

  /** Adds an action to the audit list, keeping the latest WORKER_ACTIONS_KEPT. */
  async recordAction(action: WorkerActionRecord): Promise<void> {
    await this.redis
      .multi()
      .lpush(this.keys.workerActions, JSON.stringify(action))
      .ltrim(this.keys.workerActions, 0, WORKER_ACTIONS_KEPT - 1)
      .exec();
  }

  /** The latest actions, newest first; unreadable entries are skipped. */
  async recentActions(): Promise<WorkerActionRecord[]> {
    const raw = await this.redis.lrange(this.keys.workerActions, 0, WORKER_ACTIONS_KEPT - 1);
    return raw.flatMap((entry) => {
      const parsed = WorkerActionRecord.safeParse(safeJson(entry));
      return parsed.success ? [parsed.data] : [];
    });
  }
}

function parseState(raw: string | null): ServiceControlState {
  if (raw === null) return DEFAULT_SERVICE_CONTROL;
  const parsed = ServiceControlState.safeParse(safeJson(raw));
  return parsed.success ? parsed.data : DEFAULT_SERVICE_CONTROL;
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

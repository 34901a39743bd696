/**
 * Live workers, from their heartbeats (written by the status-store, read by the gateway).
 * A worker is online while its last heartbeat is younger than 3 of its intervals.
 */
import type { WorkerHeartbeat, WorkerOffline } from '@tasks/contracts';
import type { Redis } from '../redis/redis-client';
import { RedisKeys } from './redis-keys';

export interface WorkerEntry extends WorkerHeartbeat {
  readonly online: boolean;
  readonly last_seen: string;
}

/** Entries silent for this long are removed on read. */
const FORGET_AFTER_MS = 24 * 3600 * 1000;

export class WorkerRegistry {
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  async record(heartbeat: WorkerHeartbeat): Promise<void> {
    await this.redis.hset(
      this.keys.workers,
      heartbeat.worker,
      JSON.stringify({ ...heartbeat, offline: false }),
    );
  }

  /** A worker said goodbye (graceful shutdown): it is offline at once. */
  async markOffline(offline: WorkerOffline): Promise<void> {
    const raw = await this.redis.hget(this.keys.workers, offline.worker);
    if (!raw) return;
    const entry = JSON.parse(raw) as Record<string, unknown>;
    await this.redis.hset(
      this.keys.workers,
      offline.worker,
      JSON.stringify({ ...entry, offline: true, active: [], reserved: [], at: offline.at }),
    );
  }

  /** Removes workers silent for longer than `silentMs`; returns how many. */
  async removeSilent(silentMs: number, now = Date.now()): Promise<number> {
    const all = await this.redis.hgetall(this.keys.workers);
    const stale = Object.entries(all)
      .filter(([, raw]) => {
        try {
          return now - Date.parse((JSON.parse(raw) as { at: string }).at) > silentMs;
        } catch {
          return true;
        }
      })
      .map(([name]) => name);
    if (stale.length > 0) await this.redis.hdel(this.keys.workers, ...stale);
    return stale.length;
  }

  /** Every known worker with its liveness; forgets long-silent ones. */
  async list(now = Date.now()): Promise<WorkerEntry[]> {
    const all = await this.redis.hgetall(this.keys.workers);
    const entries: WorkerEntry[] = [];
    const stale: string[] = [];
    for (const [name, raw] of Object.entries(all)) {
      let parsed: WorkerHeartbeat & { offline?: boolean };
      try {
        parsed = JSON.parse(raw) as WorkerHeartbeat & { offline?: boolean };
      } catch {
        stale.push(name);
        continue;
      }
      const age = now - Date.parse(parsed.at);
      if (age > FORGET_AFTER_MS) {
        stale.push(name);
        continue;
      }
      const online = !parsed.offline && age < 3 * parsed.interval_ms;
      entries.push({ ...parsed, online, last_seen: parsed.at });
    }
    if (stale.length > 0) await this.redis.hdel(this.keys.workers, ...stale);
    return entries;
  }
}

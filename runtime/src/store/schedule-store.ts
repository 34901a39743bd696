/**
 * Schedules in Redis: the definitions the scheduler runs (published by it, read by the admin
 * API), `enabled` overrides set through the API (they persist over the file's defaults), each
 * schedule's last firing, and the per-tick claims that make a tick fire once.
 */
import type { ScheduleView } from '@tasks/contracts';
import type { Redis } from '../redis/redis-client';
import { RedisKeys } from './redis-keys';

/** What the scheduler publishes per schedule. */
export interface ScheduleDefinition {
  readonly name: string;
  readonly task: string;
  readonly payload: Record<string, unknown>;
  readonly priority: number;
  readonly cron?: string;
  readonly every?: string | number;
  readonly timezone: string;
  readonly catch_up: ScheduleView['catch_up'];
  /** The file's default; an API override wins. */
  readonly enabled: boolean;
  readonly next_run_at: string | null;
}

export interface ScheduleFiring {
  readonly last_due_at: string | null;
  readonly last_run_at: string | null;
  readonly last_task_id: string | null;
}

/** A tick's claim holds the claiming lease until its command is confirmed, then this. */
const FIRED = 'fired';

/**
 * Only the leader claims. A tick fired, or being fired by this lease, is taken; one claimed by
 * another lease was left unfinished by a leader that lost the lease (killed between claim and
 * confirm): taken over.
 */
const CLAIM_TICK_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local holder = redis.call('GET', KEYS[2])
if holder == '${FIRED}' or holder == ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return 1
`;

export class ScheduleStore {
  readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new RedisKeys(prefix);
  }

  /** Replaces the published definitions with `definitions`. */
  async publishDefinitions(definitions: readonly ScheduleDefinition[]): Promise<void> {
    const multi = this.redis.multi().del(this.keys.scheduleDefinitions);
    if (definitions.length > 0) {
      multi.hset(
        this.keys.scheduleDefinitions,
        ...definitions.flatMap((d) => [d.name, JSON.stringify(d)]),
      );
    }
    await multi.exec();
  }

  async definitions(): Promise<ScheduleDefinition[]> {
    const all = await this.redis.hgetall(this.keys.scheduleDefinitions);
    return Object.values(all)
      .map((raw) => JSON.parse(raw) as ScheduleDefinition)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async definition(name: string): Promise<ScheduleDefinition | undefined> {
    const raw = await this.redis.hget(this.keys.scheduleDefinitions, name);
    return raw ? (JSON.parse(raw) as ScheduleDefinition) : undefined;
  }

  /** API overrides of `enabled`, by schedule name. */
  async enabledOverrides(): Promise<Map<string, boolean>> {
    const all = await this.redis.hgetall(this.keys.scheduleEnabled);
    return new Map(Object.entries(all).map(([name, value]) => [name, value === '1']));
  }

  async setEnabled(name: string, enabled: boolean): Promise<void> {
    await this.redis.hset(this.keys.scheduleEnabled, name, enabled ? '1' : '0');
  }

  async firing(name: string): Promise<ScheduleFiring> {
    const hash = await this.redis.hgetall(this.keys.scheduleState(name));
    return {
      last_due_at: hash.last_due_at || null,
      last_run_at: hash.last_run_at || null,
      last_task_id: hash.last_task_id || null,
    };
  }

  async recordFiring(name: string, dueAt: Date | null, taskId: string): Promise<void> {
    const fields = ['last_run_at', new Date().toISOString(), 'last_task_id', taskId];
    if (dueAt) fields.push('last_due_at', dueAt.toISOString());
    await this.redis.hset(this.keys.scheduleState(name), ...fields);
  }

  /**
   * Claims one tick for the leader holding `lease` (fencing): 'claimed'; 'taken' when the tick
   * was fired already; 'not-leader' when the lease is no longer ours — a paused old leader
   * cannot claim after a standby took over. A claim left by a dead leader before its command was
   * confirmed is claimed again (see `markFired`).
   */
  async claimTick(
    name: string,
    dueMs: number,
    ttlS: number,
    lease: string,
  ): Promise<'claimed' | 'taken' | 'not-leader'> {
    const result = (await this.redis.eval(
      CLAIM_TICK_LUA,
      2,
      this.keys.schedulerLeader,
      this.keys.scheduleTick(name, dueMs),
      lease,
      String(ttlS),
    )) as number;
    return result === 1 ? 'claimed' : result === 0 ? 'taken' : 'not-leader';
  }

  /** Records that the tick's command was confirmed: it is never claimed again. */
  async markFired(name: string, dueMs: number, ttlS: number): Promise<void> {
    await this.redis.set(this.keys.scheduleTick(name, dueMs), FIRED, 'EX', ttlS);
  }

  /** Moves the schedule's cursor past `dueAt` without a firing (skipped by the catch-up policy). */
  async recordDue(name: string, dueAt: Date): Promise<void> {
    await this.redis.hset(this.keys.scheduleState(name), 'last_due_at', dueAt.toISOString());
  }

  /** Gives a claim back when the command could not be published, so the tick can fire later. */
  async releaseTick(name: string, dueMs: number): Promise<void> {
    await this.redis.del(this.keys.scheduleTick(name, dueMs));
  }

  /** Definitions merged with overrides and last firings, as the admin API shows them. */
  async views(): Promise<ScheduleView[]> {
    const [definitions, overrides] = await Promise.all([
      this.definitions(),
      this.enabledOverrides(),
    ]);
    return Promise.all(
      definitions.map(async (d) => {
        const firing = await this.firing(d.name);
        return {
          name: d.name,
          task: d.task,
          ...(d.cron !== undefined ? { cron: d.cron } : {}),
          ...(d.every !== undefined ? { every: d.every } : {}),
          timezone: d.timezone,
          enabled: overrides.get(d.name) ?? d.enabled,
          catch_up: d.catch_up,
          next_run_at: d.next_run_at,
          ...firing,
        };
      }),
    );
  }
}

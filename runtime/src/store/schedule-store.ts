/**
 * Schedules in Redis: the definitions the scheduler runs (seeded once from the schedule file,
 * then created, replaced and deleted through the admin API), `enabled` overrides set through
 * PATCH, each schedule's next and last firing, and the per-tick claims that make a tick fire once.
 */
import type { ScheduleSpec, ScheduleView } from '@tasks/contracts';
import type { Redis } from '../redis/redis-client';
import { RedisKeys } from './redis-keys';

/** A stored schedule: the schedule file's schema for one entry, defaults applied. */
export type ScheduleDefinition = ScheduleSpec;

/** Names the file seeded for the first time, and names whose file entry changed and was applied. */
export interface SeedOutcome {
  readonly seeded: string[];
  readonly updated: string[];
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

/**
 * Seeds the file's schedules (ARGV: name, JSON pairs). A name never seeded is stored unless a
 * schedule of that name was created through the API; a name seeded before is left alone — it
 * may have been replaced or deleted through the API — except that a file entry changed since is
 * applied to a definition still exactly as seeded. Definitions of earlier versions (republished
 * from the file every tick, with `next_run_at`) are replaced once.
 */
const SEED_LUA = `
local seeded, updated = {}, {}
for i = 1, #ARGV, 2 do
  local name, spec = ARGV[i], ARGV[i + 1]
  local before = redis.call('HGET', KEYS[2], name)
  local current = redis.call('HGET', KEYS[1], name)
  if not before then
    if not current or cjson.decode(current).next_run_at ~= nil then
      redis.call('HSET', KEYS[1], name, spec)
      table.insert(seeded, name)
    end
    redis.call('HSET', KEYS[2], name, spec)
  elseif before ~= spec then
    if current == before then
      redis.call('HSET', KEYS[1], name, spec)
      table.insert(updated, name)
    end
    redis.call('HSET', KEYS[2], name, spec)
  end
end
return {seeded, updated}
`;

/** KEYS: definitions, enabled overrides, state, next runs. ARGV: name, JSON. */
const CREATE_LUA = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3])
redis.call('HDEL', KEYS[4], ARGV[1])
return 1
`;

/**
 * The new definition starts from now: its cursor (last_due_at) is dropped so it does not fire
 * the old timetable's past; the tick claims keep a due time both share from firing twice.
 */
const REPLACE_LUA = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], 'last_due_at')
redis.call('HDEL', KEYS[4], ARGV[1])
return 1
`;

/** The seeded marker stays: a file schedule deleted here is not seeded again. */
const DELETE_LUA = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3])
redis.call('HDEL', KEYS[4], ARGV[1])
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

  /** Stores the schedule file's entries that were never seeded (see SEED_LUA). */
  async seed(specs: readonly ScheduleSpec[]): Promise<SeedOutcome> {
    const [seeded, updated] = (await this.redis.eval(
      SEED_LUA,
      2,
      this.keys.scheduleDefinitions,
      this.keys.scheduleSeeded,
      ...specs.flatMap((s) => [s.name, JSON.stringify(s)]),
    )) as [string[], string[]];
    return { seeded, updated };
  }

  /** Stores a new schedule: false when one of that name exists. */
  async create(spec: ScheduleSpec): Promise<boolean> {
    return (await this.change(CREATE_LUA, spec.name, JSON.stringify(spec))) === 1;
  }

  /** Replaces a schedule's definition (and drops its `enabled` override): false when missing. */
  async replace(spec: ScheduleSpec): Promise<boolean> {
    return (await this.change(REPLACE_LUA, spec.name, JSON.stringify(spec))) === 1;
  }

  /** Deletes a schedule, its override and its firings: false when missing. */
  async remove(name: string): Promise<boolean> {
    return (await this.change(DELETE_LUA, name)) === 1;
  }

  private async change(script: string, name: string, ...args: string[]): Promise<number> {
    return (await this.redis.eval(
      script,
      4,
      this.keys.scheduleDefinitions,
      this.keys.scheduleEnabled,
      this.keys.scheduleState(name),
      this.keys.scheduleNextRuns,
      name,
      ...args,
    )) as number;
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

  /** Replaces the next due times shown by the admin API (the leader, each tick). */
  async publishNextRuns(nextRuns: ReadonlyMap<string, string | null>): Promise<void> {
    const multi = this.redis.multi().del(this.keys.scheduleNextRuns);
    const known = [...nextRuns].filter((entry): entry is [string, string] => entry[1] !== null);
    if (known.length > 0) multi.hset(this.keys.scheduleNextRuns, ...known.flat());
    await multi.exec();
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

  /** Definitions merged with overrides, next and last firings, as the admin API shows them. */
  async views(): Promise<ScheduleView[]> {
    const [definitions, overrides, nextRuns] = await Promise.all([
      this.definitions(),
      this.enabledOverrides(),
      this.redis.hgetall(this.keys.scheduleNextRuns),
    ]);
    return Promise.all(definitions.map(async (d) => this.toView(d, overrides, nextRuns)));
  }

  async view(name: string): Promise<ScheduleView | undefined> {
    const [definition, overrides, nextRun] = await Promise.all([
      this.definition(name),
      this.enabledOverrides(),
      this.redis.hget(this.keys.scheduleNextRuns, name),
    ]);
    if (!definition) return undefined;
    return this.toView(definition, overrides, nextRun ? { [name]: nextRun } : {});
  }

  private async toView(
    d: ScheduleDefinition,
    overrides: ReadonlyMap<string, boolean>,
    nextRuns: Readonly<Record<string, string>>,
  ): Promise<ScheduleView> {
    const firing = await this.firing(d.name);
    return {
      name: d.name,
      task: d.task,
      payload: d.payload,
      priority: d.priority,
      ...(d.cron !== undefined ? { cron: d.cron } : {}),
      ...(d.every !== undefined ? { every: d.every } : {}),
      timezone: d.timezone,
      enabled: overrides.get(d.name) ?? d.enabled,
      catch_up: d.catch_up,
      max_catch_up: d.max_catch_up,
      next_run_at: nextRuns[d.name] ?? null,
      ...firing,
    };
  }
}

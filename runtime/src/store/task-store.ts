/**
 * The task read model in Redis: one hash per task, written only through the apply-event script
 * (which also keeps the scheduled set and the daily statistics in step). The status-store writes
 * events; the gateway registers PENDING and REVOKED through the same script and reads records.
 * Revocations, the scheduled set and the statistics are modules of their own, reached from here.
 */
import {
  isTerminal,
  type StateEvent,
  stateRank,
  type TaskState,
  TaskState as TaskStateSchema,
} from '@tasks/contracts';
import type { ChainableCommander } from 'ioredis';
import type { Redis } from '../redis/redis-client';
import { type ReplicaAckOptions, ReplicaAcks } from '../redis/replica-acks';
import { TickBatcher } from '../redis/tick-batcher';
import { APPLY_EVENT_LUA } from './apply-event-script';
import { APPLY_EVENT_KEYS, APPLY_EVENTS_LUA, packArgs } from './apply-events-script';
import { RedisKeys } from './redis-keys';
import { REVOKE_TASK_KEYS, REVOKE_TASK_LUA } from './revoke-task-script';
import { type DayStats, statsIncrements } from './report-stats';
import { Revocations } from './revocations';
import { type ScheduledTask, ScheduledSet } from './scheduled-set';
import { TaskStats } from './task-stats';

/** A task as stored, with JSON fields parsed. */
export interface TaskRecord {
  readonly task_id: string;
  readonly state: TaskState;
  readonly attempt: number;
  /** The applied event's seq within its attempt (with state and attempt: its position). */
  readonly seq: number;
  readonly type: string | null;
  readonly result: unknown;
  readonly error: string | null;
  readonly created_at: string | null;
  readonly updated_at: string | null;
  readonly started_at: string | null;
  readonly completed_at: string | null;
  readonly eta: string | null;
  readonly next_retry_at: string | null;
  readonly worker: string | null;
  readonly priority: number | null;
  /** Id of the API key that created it; null without keys, or for a schedule's task. */
  readonly owner: string | null;
  /** The trace its submission started, when tracing was on. */
  readonly trace_id: string | null;
}

/** One state change of a task, as its timeline keeps it (PROGRESS runs: the latest only). */
export interface TaskHistoryEvent {
  readonly state: TaskState;
  readonly time: string;
  readonly attempt: number;
  readonly worker: string;
  readonly error?: string;
}

export interface TaskStoreOptions {
  readonly prefix: string;
  /** Record lifetime after its terminal state (RESULT_TTL_S). */
  readonly resultTtlS: number;
  /** Lifetime of the daily statistics counters. */
  readonly statsTtlS?: number;
  /**
   * Replicas every state write (registrations, applied events, cancels) must reach before it
   * resolves (Redis behind Sentinel); none or 0: no WAIT, a single server.
   */
  readonly replicaAcks?: ReplicaAckOptions;
}

type ApplyEventCommand = (
  taskKey: string,
  scheduledKey: string,
  statsKey: string,
  ...argv: string[]
) => Promise<number>;

/** A record and its revocation as they were, to undo a replay's reopen whose publish failed. */
export interface RecordSnapshot {
  readonly taskId: string;
  /** The hash's fields; empty when there was no record. */
  readonly fields: Readonly<Record<string, string>>;
  /** Remaining lifetime of the record (ms); <= 0 when none. */
  readonly ttlMs: number;
  /** Remaining lifetime of the revocation (ms); <= 0 when the task was not revoked. */
  readonly revokedTtlMs: number;
}

/**
 * Lua that drops task `id` from the history kept under prefix `h` (every index but the state
 * sets, its meta entry, expiry and timeline), given the Lua expressions of its type and owner.
 */
const dropFromHistoryLua = (type: string, owner: string): string => `
redis.call('ZREM', h .. 'all', id)
if ${type} then redis.call('ZREM', h .. 'type:' .. ${type}, id) end
if ${owner} then redis.call('ZREM', h .. 'owner:' .. ${owner}, id) end
redis.call('HDEL', h .. 'meta', id)
redis.call('ZREM', h .. 'expiry', id)
redis.call('DEL', h .. 'events:' .. id)`;

/**
 * Undoes a reopen, only while the record is still that reopen's PENDING (nothing ran it), and
 * puts the history's indexes back as they were (history-index-script.ts): its state set, its
 * creation time in each set, its timeline without the reopen's PENDING.
 * KEYS: task hash, revocation, scheduled zset.
 * ARGV: reopened attempt, record ttl (ms), revocation ttl (ms), task id, history key prefix,
 *       the snapshot's creation score, state, type and owner ('' = none), then field/value pairs.
 * Returns 1 when restored, 0 when the record had moved on.
 */
const RESTORE_SNAPSHOT_LUA = `
local cur = redis.call('HMGET', KEYS[1], 'state', 'attempt', 'seq', 'type', 'owner')
if cur[1] ~= 'PENDING' or cur[2] ~= ARGV[1] or cur[3] ~= '0' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[4])
if #ARGV > 9 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 10))
  if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
end
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[2], '1', 'PX', ARGV[3]) end
local h, id = ARGV[5], ARGV[4]
redis.call('ZREM', h .. 'state:PENDING', id)
redis.call('RPOP', h .. 'events:' .. id)
if ARGV[7] ~= '' then
  local score = ARGV[6] ~= '' and ARGV[6] or redis.call('ZSCORE', h .. 'all', id) or '0'
  redis.call('ZADD', h .. 'all', score, id)
  redis.call('ZADD', h .. 'state:' .. ARGV[7], score, id)
  if ARGV[8] ~= '' then redis.call('ZADD', h .. 'type:' .. ARGV[8], score, id) end
  if ARGV[9] ~= '' then redis.call('ZADD', h .. 'owner:' .. ARGV[9], score, id) end
  if tonumber(ARGV[2]) > 0 then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    redis.call('ZADD', h .. 'expiry', now + tonumber(ARGV[2]), id)
  end
else
${dropFromHistoryLua('cur[4]', 'cur[5]')}
end
return 1
`;

/**
 * Forgets a task that never became work (a workflow whose first steps were not confirmed): its
 * record, its place in the scheduled set and everything the history keeps of it.
 * KEYS: task hash, scheduled zset. ARGV: task id, history key prefix.
 */
const FORGET_TASK_LUA = `
local cur = redis.call('HMGET', KEYS[1], 'state', 'type', 'owner')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
local h, id = ARGV[2], ARGV[1]
if cur[1] then redis.call('ZREM', h .. 'state:' .. cur[1], id) end
${dropFromHistoryLua('cur[2]', 'cur[3]')}
`;

/** What `revokeRecord` did. */
export type RecordRevocation =
  | { readonly kind: 'revoked'; readonly previous: TaskState }
  | { readonly kind: 'missing' }
  | { readonly kind: 'finished'; readonly state: TaskState };

type RevokeTaskCommand = (...keysThenArgv: string[]) => Promise<[number, string?]>;

type ApplyEventsCommand = (numberOfKeys: number, ...keysThenArgv: string[]) => Promise<number[]>;

const STATS_TTL_S = 400 * 24 * 3600;
/**
 * Lifetime of an unfinished record from its last change (plus any countdown, eta or retry wait):
 * a safety net for one no run will ever finish (a producer killed between registering and
 * publishing), far longer than a task may wait in a queue. RESULT_TTL_S counts from the
 * terminal state only, so a queued task's record never expires before it runs.
 */
const OPEN_RECORD_TTL_S = 30 * 24 * 3600;
/** Events per script call: bounds how long one call holds Redis. */
const EVENTS_PER_CALL = 100;

export class TaskStore {
  readonly keys: RedisKeys;
  /** Lifetime of an unfinished record (never shorter than a finished one's). */
  private readonly openTtlS: number;
  /** WAIT after state writes; undefined on a single server. */
  private readonly acks: ReplicaAcks | undefined;
  /** PENDING registrations of one turn (a producer's burst): one script call. */
  private readonly registrations = new TickBatcher<StateEvent, boolean>(
    (events) => this.applyAll(events),
    (flush) => setImmediate(flush),
  );
  /** Revocation marks (read by workers on delivery). */
  readonly revocations: Revocations;
  /** Tasks due later (countdown, eta, retry wait). */
  readonly scheduledSet: ScheduledSet;
  /** The daily counters, for reports. */
  readonly stats: TaskStats;

  constructor(
    readonly redis: Redis,
    private readonly options: TaskStoreOptions,
  ) {
    this.keys = new RedisKeys(options.prefix);
    this.revocations = new Revocations(redis, this.keys);
    this.scheduledSet = new ScheduledSet(redis, this.keys);
    this.stats = new TaskStats(redis, this.keys);
    this.openTtlS = Math.max(options.resultTtlS, OPEN_RECORD_TTL_S);
    this.acks =
      (options.replicaAcks?.replicas ?? 0) > 0
        ? new ReplicaAcks(redis, options.replicaAcks!)
        : undefined;
    if (!('applyTaskEvent' in redis)) {
      redis.defineCommand('applyTaskEvent', {
        numberOfKeys: APPLY_EVENT_KEYS,
        lua: APPLY_EVENT_LUA,
      });
    }
    if (!('revokeTask' in redis)) {
      redis.defineCommand('revokeTask', { numberOfKeys: REVOKE_TASK_KEYS, lua: REVOKE_TASK_LUA });
    }
    if (!('applyTaskEvents' in redis)) {
      redis.defineCommand('applyTaskEvents', { lua: APPLY_EVENTS_LUA });
    }
  }

  /** Applies one event; true when it moved the task forward. */
  async apply(event: StateEvent): Promise<boolean> {
    return this.applyWith(event, false);
  }

  /**
   * Registers a new task's PENDING, as `apply` would; the registrations made in one turn of the
   * event loop share one script call (`applyAll`, in call order). Only for PENDING of a task
   * the caller waits on before anything else touches it (TaskEnqueuer): the write goes out a
   * turn later, after Redis commands the caller issues in the meantime.
   */
  register(event: StateEvent): Promise<boolean> {
    return this.registrations.call(event);
  }

  /**
   * Reopens a finished task for a dead-letter replay: `event` (PENDING, with an attempt above the
   * record's) is applied even though the record is terminal. True when applied.
   */
  async reopen(event: StateEvent): Promise<boolean> {
    return this.applyWith(event, true);
  }

  /** The record and its revocation as they are now (for `restore`). */
  async snapshot(taskId: string): Promise<RecordSnapshot> {
    const replies = (await this.redis
      .multi()
      .hgetall(this.keys.task(taskId))
      .pttl(this.keys.task(taskId))
      .pttl(this.keys.revoked(taskId))
      .exec()) as [Error | null, unknown][];
    const [fields, ttlMs, revokedTtlMs] = replies.map(([err, value]) => {
      if (err) throw err;
      return value;
    }) as [Record<string, string>, number, number];
    return { taskId, fields, ttlMs, revokedTtlMs };
  }

  /**
   * Puts back a record and its revocation as `snapshot` saw them, if the record is still the
   * PENDING of `reopenedAttempt` that a replay wrote (a replay whose publish failed). True when
   * restored; false when the record had moved on and was left alone.
   */
  async restore(snapshot: RecordSnapshot, reopenedAttempt: number): Promise<boolean> {
    const { taskId, fields } = snapshot;
    const created = fields.created_at ? Date.parse(fields.created_at) : NaN;
    const restored = await this.redis.eval(
      RESTORE_SNAPSHOT_LUA,
      3,
      this.keys.task(taskId),
      this.keys.revoked(taskId),
      this.keys.scheduled,
      String(reopenedAttempt),
      String(snapshot.ttlMs),
      String(snapshot.revokedTtlMs),
      taskId,
      this.keys.historyIndex(''),
      Number.isFinite(created) ? String(created) : '',
      fields.state ?? '',
      fields.type ?? '',
      fields.owner ?? '',
      ...Object.entries(fields).flat(),
    );
    return restored === 1;
  }

  private async applyWith(event: StateEvent, reopen: boolean): Promise<boolean> {
    const command = (this.redis as unknown as { applyTaskEvent: ApplyEventCommand }).applyTaskEvent;
    const mark = this.acks?.mark();
    const applied = await command.call(this.redis, ...this.applyArgs(event, reopen));
    if (this.acks && mark !== undefined) await this.acks.confirm(mark, this.redis);
    return applied === 1;
  }

  /**
   * Applies each task's events in their order, a chunk of them per script call, the calls in one
   * pipeline (events of different tasks may be applied in another order than given); resolves
   * once every one was written, with whether each moved its task forward. Always an explicit
   * pipeline, written to the socket before this returns (single commands are auto-pipelined,
   * i.e. sent a tick later): successive calls reach Redis in call order. With replica acks the
   * pipeline ends with a WAIT, and it resolves only once the replicas have every event.
   */
  async applyAll(events: readonly StateEvent[]): Promise<boolean[]> {
    if (events.length === 0) return [];
    // Each task's events together, in their order: one rule run per task, however a batch
    // interleaves tasks (a worker's STARTEDs, then their SUCCESSes). Tasks are independent.
    const order = groupedByTask(events);
    const pipeline = this.redis.pipeline() as unknown as { applyTaskEvents: ApplyEventsCommand };
    let calls = 0;
    for (let from = 0; from < order.length; from += EVENTS_PER_CALL) {
      const keys: string[] = [];
      const argv: string[] = [];
      for (const at of order.slice(from, from + EVENTS_PER_CALL)) {
        const event = events[at]!;
        const args = this.applyArgs(event);
        for (let i = 0; i < APPLY_EVENT_KEYS; i += 1) keys.push(args[i]!);
        argv.push(packArgs(args, APPLY_EVENT_KEYS));
      }
      void pipeline.applyTaskEvents(keys.length, ...keys, ...argv);
      calls += 1;
    }
    const mark = this.acks?.mark();
    if (this.acks) void (pipeline as unknown as ChainableCommander).wait(...this.acks.waitArgs());
    const replies = (await (pipeline as unknown as ChainableCommander).exec()) ?? [];
    if (this.acks && mark !== undefined) {
      const [waitErr, acked] = replies[calls] ?? [new Error('no reply to WAIT'), 0];
      if (waitErr) throw waitErr;
      this.acks.check(mark, acked);
    }
    const inOrder = replies.slice(0, calls).flatMap(([err, applied]) => {
      if (err) throw err;
      return (applied as number[]).map((a) => a === 1);
    });
    const result = new Array<boolean>(events.length);
    order.forEach((at, i) => (result[at] = inOrder[i]!));
    return result;
  }

  private applyArgs(event: StateEvent, reopen = false): [string, string, string, ...string[]] {
    const terminal = isTerminal(event.state);
    const dueAt =
      event.state === 'PENDING'
        ? event.eta
        : event.state === 'RETRY'
          ? event.next_retry_at
          : undefined;
    const dueMs = dueAt ? Date.parse(dueAt) : NaN;
    const waitS = Number.isFinite(dueMs) ? Math.max(0, Math.ceil((dueMs - Date.now()) / 1000)) : 0;
    const fields: string[] = [
      'task_id',
      event.task_id,
      'type',
      event.type,
      'updated_at',
      event.at,
      'worker',
      event.worker,
      'result',
      JSON.stringify(resultOf(event)),
      'error',
      event.error ?? '',
      'next_retry_at',
      event.next_retry_at ?? '',
    ];
    if (event.state === 'PENDING') {
      fields.push('created_at', event.created_at ?? event.at, 'eta', event.eta ?? '');
      fields.push('started_at', '', 'completed_at', '');
      if (event.priority !== undefined) fields.push('priority', String(event.priority));
      // A replay's PENDING carries no owner and keeps the one recorded.
      if (event.owner !== undefined) fields.push('owner', event.owner);
      if (event.trace_id !== undefined) fields.push('trace_id', event.trace_id);
    }
    if (event.state === 'STARTED') fields.push('started_at', event.at);
    if (terminal) fields.push('completed_at', event.at);
    const increments = statsIncrements(event);
    if (increments) fields.push('stats_incr', increments);
    return [
      this.keys.task(event.task_id),
      this.keys.scheduled,
      this.keys.statsDay(event.at.slice(0, 10)),
      event.state,
      String(stateRank(event.state)),
      String(event.attempt),
      String(event.seq),
      terminal ? '1' : '0',
      String(terminal ? this.options.resultTtlS : this.openTtlS + waitS),
      event.task_id,
      Number.isFinite(dueMs) ? String(dueMs) : '',
      event.type,
      String(this.options.statsTtlS ?? STATS_TTL_S),
      reopen ? '1' : '0',
      event.state === 'PENDING' ? String(Date.parse(event.created_at ?? event.at)) : '',
      historyEntry(event),
      this.options.prefix,
      ...fields,
    ];
  }

  /** The stored record, or undefined when the id is unknown or expired. */
  async get(taskId: string): Promise<TaskRecord | undefined> {
    const hash = await this.redis.hgetall(this.keys.task(taskId));
    return parseRecord(taskId, hash);
  }

  /** Several records in one round trip, in order (undefined: unknown or expired). */
  async getMany(taskIds: readonly string[]): Promise<(TaskRecord | undefined)[]> {
    if (taskIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of taskIds) pipeline.hgetall(this.keys.task(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, hash], i) => {
      if (err) throw err;
      return parseRecord(taskIds[i]!, hash as Record<string, string>);
    });
  }

  /** The task's state events, oldest first (empty once it expired). */
  async events(taskId: string): Promise<TaskHistoryEvent[]> {
    const lines = await this.redis.lrange(this.keys.historyEvents(taskId), 0, -1);
    return lines.map((line) => JSON.parse(line) as TaskHistoryEvent);
  }

  /** Removes a record the client was never told about (its command was not confirmed). */
  async forget(taskId: string): Promise<void> {
    await this.redis.eval(
      FORGET_TASK_LUA,
      2,
      this.keys.task(taskId),
      this.keys.scheduled,
      taskId,
      this.keys.historyIndex(''),
    );
  }

  /** Marks a task revoked, so a worker skips it on delivery, across restarts. */
  revoke(taskId: string, ttlS: number): Promise<void> {
    return this.revocations.revoke(taskId, ttlS);
  }

  /**
   * Cancels an unfinished task in one atomic step: the revocation (`revokeTtlS`) and `event`
   * (REVOKED, applied at the record's current attempt whatever `event.attempt` says) are
   * written together, or nothing is when the record is missing or already terminal.
   */
  async revokeRecord(event: StateEvent, revokeTtlS: number): Promise<RecordRevocation> {
    const [taskKey, scheduledKey, statsKey, ...argv] = this.applyArgs(event);
    const command = (this.redis as unknown as { revokeTask: RevokeTaskCommand }).revokeTask;
    const mark = this.acks?.mark();
    const [kind, state] = await command.call(
      this.redis,
      taskKey,
      scheduledKey,
      statsKey,
      this.keys.revoked(event.task_id),
      String(revokeTtlS),
      ...argv,
    );
    if (this.acks && mark !== undefined) await this.acks.confirm(mark, this.redis);
    if (kind === 0) return { kind: 'missing' };
    const parsed = TaskStateSchema.parse(state);
    return kind === 1 ? { kind: 'finished', state: parsed } : { kind: 'revoked', previous: parsed };
  }

  /** Whether the task is revoked; the checks of one callback share one MGET. */
  isRevoked(taskId: string): Promise<boolean> {
    return this.revocations.isRevoked(taskId);
  }

  /** Task ids due later (countdown, eta, retry wait), soonest first, with their due time. */
  scheduled(limit?: number): Promise<ScheduledTask[]> {
    return this.scheduledSet.list(limit);
  }

  /** Drops scheduled entries whose records expired. */
  unschedule(taskIds: readonly string[]): Promise<void> {
    return this.scheduledSet.remove(taskIds);
  }

  /** Everything the status-store counted on the given days, for reports (report-stats.ts). */
  dayStats(days: readonly string[]): Promise<Map<string, DayStats>> {
    return this.stats.days(days);
  }
}

/** Indexes of `events`, each task's together in their order, tasks by first appearance. */
function groupedByTask(events: readonly StateEvent[]): number[] {
  const byTask = new Map<string, number[]>();
  events.forEach((event, at) => {
    const own = byTask.get(event.task_id);
    if (own) own.push(at);
    else byTask.set(event.task_id, [at]);
  });
  if (byTask.size === events.length) return events.map((_, at) => at);
  return [...byTask.values()].flat();
}

/** One line of a task's timeline (`events`), as the apply script stores it. */
function historyEntry(event: StateEvent): string {
  const entry: TaskHistoryEvent = {
    state: event.state,
    time: event.at,
    attempt: event.attempt,
    worker: event.worker,
    ...(event.error !== undefined ? { error: event.error } : {}),
  };
  return JSON.stringify(entry);
}

function resultOf(event: StateEvent): unknown {
  if (event.state === 'PROGRESS') return event.progress ?? null;
  if (event.state === 'SUCCESS') return event.result ?? null;
  return null;
}

const orNull = (value: string | undefined): string | null =>
  value === undefined || value === '' ? null : value;

export function parseRecord(taskId: string, hash: Record<string, string>): TaskRecord | undefined {
  const state = TaskStateSchema.safeParse(hash.state);
  if (!state.success) return undefined;
  let result: unknown = null;
  try {
    result = hash.result ? JSON.parse(hash.result) : null;
  } catch {
    result = null;
  }
  return {
    task_id: taskId,
    state: state.data,
    attempt: Number(hash.attempt ?? 0),
    seq: Number(hash.seq ?? 0),
    type: orNull(hash.type),
    result,
    error: orNull(hash.error),
    created_at: orNull(hash.created_at),
    updated_at: orNull(hash.updated_at),
    started_at: orNull(hash.started_at),
    completed_at: orNull(hash.completed_at),
    eta: orNull(hash.eta),
    next_retry_at: orNull(hash.next_retry_at),
    worker: orNull(hash.worker),
    priority: hash.priority ? Number(hash.priority) : null,
    owner: orNull(hash.owner),
    trace_id: orNull(hash.trace_id),
  };
}

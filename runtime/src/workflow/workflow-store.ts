/**
 * Workflows in Redis, beside the task records (docs/ARCHITECTURE.md, "Workflows"). The join
 * state lives in one Lua script, {@link ADVANCE_LUA}: a step's terminal state is taken note of
 * once (HSETNX), so duplicated, redelivered or out-of-order events decrement the join counters
 * exactly once, whatever the number of events and processes.
 */
import type { Redis } from '../redis/redis-client';
import { RedisKeys, WorkflowKeys } from '../store/redis-keys';
import { dependentsOf, type WorkflowSpec } from './workflow-spec';

/** Stored status: PENDING until it ends (STARTED is derived from the steps when read). */
export type StoredWorkflowStatus = 'PENDING' | 'SUCCESS' | 'FAILURE' | 'REVOKED';

export interface WorkflowMeta {
  readonly status: StoredWorkflowStatus;
  readonly error: string | null;
  readonly created_at: string | null;
  readonly spec: WorkflowSpec;
}

export interface Advance {
  /** The workflow's status after this step was taken note of; undefined: unknown workflow. */
  readonly status: StoredWorkflowStatus | undefined;
  /** Dependents of the step that are due and not yet confirmed launched. */
  readonly ready: string[];
}

/**
 * KEYS: meta, waiting, done, results, launches, the step's task hash.
 * ARGV: step task id, ttl_s, then the step's dependents.
 * Acts on the task record's terminal state (the truth the status-store just wrote), not on the
 * event: a late or duplicated event of another attempt changes nothing. Returns the status,
 * then the dependents in state `ready`, and none once the workflow failed or was revoked.
 */
const ADVANCE_LUA = `
local state = redis.call('HGET', KEYS[6], 'state')
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {''} end
if (state == 'SUCCESS' or state == 'FAILURE' or state == 'REVOKED')
    and redis.call('HSETNX', KEYS[3], ARGV[1], state) == 1 then
  if state == 'SUCCESS' then
    redis.call('HSET', KEYS[4], ARGV[1], redis.call('HGET', KEYS[6], 'result') or 'null')
    local remaining = redis.call('HINCRBY', KEYS[1], 'remaining', -1)
    for i = 3, #ARGV do
      if redis.call('HINCRBY', KEYS[2], ARGV[i], -1) == 0 then
        redis.call('HSET', KEYS[5], ARGV[i], 'ready')
      end
    end
    if remaining <= 0 and status == 'PENDING' then
      status = 'SUCCESS'
      redis.call('HSET', KEYS[1], 'status', status)
    end
  elseif status == 'PENDING' then
    status = (state == 'REVOKED') and 'REVOKED' or 'FAILURE'
    local err = redis.call('HGET', KEYS[6], 'error') or ''
    redis.call('HSET', KEYS[1], 'status', status, 'error',
      'step ' .. ARGV[1] .. ' ended ' .. state .. (err ~= '' and (': ' .. err) or ''))
  end
  for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
end
local out = {status}
if status == 'PENDING' or status == 'SUCCESS' then
  for i = 3, #ARGV do
    if redis.call('HGET', KEYS[5], ARGV[i]) == 'ready' then out[#out + 1] = ARGV[i] end
  end
end
return out
`;

/** KEYS: meta. ARGV: new status, error. Ends a PENDING workflow; returns the status before. */
const END_LUA = `
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'PENDING' then redis.call('HSET', KEYS[1], 'status', ARGV[1], 'error', ARGV[2]) end
return status or ''
`;

type AdvanceCommand = (...args: string[]) => Promise<string[]>;
type EndCommand = (meta: string, status: string, error: string) => Promise<string>;

/** Lifetime of a workflow's keys after its last change: 7 days. */
export const WORKFLOW_TTL_S = 7 * 86_400;

/** How many parsed specs a process keeps (specs never change). */
const SPEC_CACHE = 500;

export class WorkflowStore {
  readonly keys: WorkflowKeys;
  private readonly taskKeys: RedisKeys;
  private readonly specs = new Map<
    string,
    { spec: WorkflowSpec; dependents: Map<string, string[]> }
  >();

  constructor(
    readonly redis: Redis,
    prefix: string,
    /** Lifetime of a workflow's keys after its last change. */
    private readonly ttlS: number,
  ) {
    this.keys = new WorkflowKeys(prefix);
    this.taskKeys = new RedisKeys(prefix);
    if (!('advanceWorkflow' in redis)) {
      redis.defineCommand('advanceWorkflow', { numberOfKeys: 6, lua: ADVANCE_LUA });
      redis.defineCommand('endWorkflow', { numberOfKeys: 1, lua: END_LUA });
    }
  }

  /** Writes a new workflow: its spec, join counters, and the first steps as `ready`. */
  async create(spec: WorkflowSpec): Promise<void> {
    const id = spec.workflow_id;
    const k = this.keys;
    const multi = this.redis.multi();
    multi.hset(k.meta(id), {
      status: 'PENDING',
      remaining: spec.steps.length,
      created_at: spec.created_at,
      error: '',
      spec: JSON.stringify(spec),
    });
    const waiting = spec.steps.filter((s) => s.after.length > 0);
    if (waiting.length > 0) {
      multi.hset(
        k.waiting(id),
        Object.fromEntries(waiting.map((s) => [s.task_id, new Set(s.after).size])),
      );
    }
    const first = spec.steps.filter((s) => s.after.length === 0);
    multi.hset(k.launches(id), Object.fromEntries(first.map((s) => [s.task_id, 'ready'])));
    for (const step of spec.steps) multi.set(k.stepOf(step.task_id), id, 'EX', this.ttlS);
    for (const key of [k.meta(id), k.waiting(id), k.launches(id)]) multi.expire(key, this.ttlS);
    await multi.exec();
  }

  /** Removes a workflow whose submission failed (the client got no 202). */
  async delete(spec: WorkflowSpec): Promise<void> {
    const id = spec.workflow_id;
    const k = this.keys;
    await this.redis.del(
      k.meta(id),
      k.waiting(id),
      k.done(id),
      k.results(id),
      k.launches(id),
      ...spec.steps.map((s) => k.stepOf(s.task_id)),
    );
  }

  /** The workflow of each task id (undefined for tasks outside workflows), in one round trip. */
  async workflowsOf(taskIds: readonly string[]): Promise<(string | undefined)[]> {
    if (taskIds.length === 0) return [];
    const values = await this.redis.mget(...taskIds.map((id) => this.keys.stepOf(id)));
    return values.map((v) => v ?? undefined);
  }

  async meta(workflowId: string): Promise<WorkflowMeta | undefined> {
    const hash = await this.redis.hgetall(this.keys.meta(workflowId));
    if (!hash.spec || !hash.status) return undefined;
    return {
      status: hash.status as StoredWorkflowStatus,
      error: hash.error ? hash.error : null,
      created_at: hash.created_at ?? null,
      spec: this.parsed(workflowId, hash.spec).spec,
    };
  }

  /** The spec and each step's dependents, cached (a spec never changes). */
  async plan(
    workflowId: string,
  ): Promise<{ spec: WorkflowSpec; dependents: Map<string, string[]> } | undefined> {
    const cached = this.specs.get(workflowId);
    if (cached) return cached;
    const raw = await this.redis.hget(this.keys.meta(workflowId), 'spec');
    return raw ? this.parsed(workflowId, raw) : undefined;
  }

  private parsed(workflowId: string, raw: string) {
    const cached = this.specs.get(workflowId);
    if (cached) return cached;
    const spec = JSON.parse(raw) as WorkflowSpec;
    const plan = { spec, dependents: dependentsOf(spec) };
    if (this.specs.size >= SPEC_CACHE) {
      const oldest = this.specs.keys().next().value;
      if (oldest !== undefined) this.specs.delete(oldest);
    }
    this.specs.set(workflowId, plan);
    return plan;
  }

  /** Takes note of a step's terminal record (idempotent); see {@link ADVANCE_LUA}. */
  async advance(
    workflowId: string,
    taskId: string,
    dependents: readonly string[],
  ): Promise<Advance> {
    const k = this.keys;
    const command = (this.redis as unknown as { advanceWorkflow: AdvanceCommand }).advanceWorkflow;
    const [status, ...ready] = await command.call(
      this.redis,
      k.meta(workflowId),
      k.waiting(workflowId),
      k.done(workflowId),
      k.results(workflowId),
      k.launches(workflowId),
      this.taskKeys.task(taskId),
      taskId,
      String(this.ttlS),
      ...dependents,
    );
    return { status: status ? (status as StoredWorkflowStatus) : undefined, ready };
  }

  /** Ends a PENDING workflow (cancel); returns the stored status before, undefined if unknown. */
  async end(
    workflowId: string,
    status: 'FAILURE' | 'REVOKED',
    error: string,
  ): Promise<StoredWorkflowStatus | undefined> {
    const command = (this.redis as unknown as { endWorkflow: EndCommand }).endWorkflow;
    const before = await command.call(this.redis, this.keys.meta(workflowId), status, error);
    return before ? (before as StoredWorkflowStatus) : undefined;
  }

  /** Results of succeeded steps, parsed. */
  async results(workflowId: string, taskIds: readonly string[]): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    if (taskIds.length === 0) return out;
    const values = await this.redis.hmget(this.keys.results(workflowId), ...taskIds);
    taskIds.forEach((id, i) => {
      const raw = values[i];
      if (raw !== null && raw !== undefined) out.set(id, JSON.parse(raw) as unknown);
    });
    return out;
  }

  /** What the workflow noted of its finished steps: terminal state and, on SUCCESS, result. */
  async outcomes(workflowId: string): Promise<Map<string, { state: string; result: unknown }>> {
    const [done, results] = await Promise.all([
      this.redis.hgetall(this.keys.done(workflowId)),
      this.redis.hgetall(this.keys.results(workflowId)),
    ]);
    const out = new Map<string, { state: string; result: unknown }>();
    for (const [taskId, state] of Object.entries(done)) {
      const raw = results[taskId];
      out.set(taskId, { state, result: raw === undefined ? null : (JSON.parse(raw) as unknown) });
    }
    return out;
  }

  async markLaunched(workflowId: string, taskIds: readonly string[]): Promise<void> {
    if (taskIds.length === 0) return;
    await this.redis.hset(
      this.keys.launches(workflowId),
      Object.fromEntries(taskIds.map((id) => [id, 'launched'])),
    );
  }

  /**
   * Claims the first run of a step's command. False: this command is a duplicate of one that
   * already ran (or runs) — the launcher published it twice (see ARCHITECTURE.md).
   */
  async claimRun(taskId: string): Promise<boolean> {
    return (await this.redis.set(this.keys.stepRun(taskId), '1', 'EX', this.ttlS, 'NX')) === 'OK';
  }
}

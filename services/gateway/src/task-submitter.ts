/**
 * Accepts a task: validate → TaskEnqueuer (register PENDING, publish, wait for the
 * broker's confirm) → 202. A command the broker did not confirm is never answered 202: its record
 * is removed and the client gets 503.
 *
 * With an Idempotency-Key, the same key and body within IDEMPOTENCY_TTL_S answer the same task
 * id; the same key with another body is 422. A key whose first request never got its confirm
 * (crash, broker down) publishes the same task id again: workers are idempotent on it.
 *
 * A 503 means the task will never run: without a key the enqueuer revokes the id before the
 * answer; with a key, the failed request revokes its id and frees the key in one step, unless a
 * concurrent request with the same key was accepted first (then both answer its id), and an
 * accepted request confirms the key only if its id was not revoked meanwhile (else it too
 * answers 503: its command is skipped by the worker).
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  maxDelayMs,
  TASK_OPTION_KEYS,
  TASK_TYPES,
  type TaskCreatedResponse,
} from '@tasks/contracts';
import {
  BrokerUnavailableError,
  FAILED_ENQUEUE_REVOKE_TTL_S,
  type Redis,
  type TaskEnqueuer,
  type TaskStore,
} from '@tasks/runtime';
import { HttpError, unprocessable } from './http-error';
import type { TaskBudget } from './security/task-budget';
import type { TaskRequestSpec } from './task-requests';
import { parseBody } from './validation';

export interface TaskSubmitterDeps {
  readonly store: TaskStore;
  readonly redis: Redis;
  readonly enqueuer: TaskEnqueuer;
  readonly delay: { readonly unitMs: number; readonly levels: number };
  readonly idempotencyTtlS: number;
  /** Issues one 422 lists (VALIDATION_MAX_ISSUES). @default 50 */
  readonly maxIssues?: number;
  /** Charges the owner's e-mail budget; none: free. */
  readonly budget?: TaskBudget;
}

interface IdempotencyEntry {
  readonly task_id: string;
  readonly body_sha256: string;
  readonly confirmed: boolean;
}

/** Keys longer than this are refused (they are stored). */
const MAX_IDEMPOTENCY_KEY = 255;

export class TaskSubmitter {
  constructor(private readonly deps: TaskSubmitterDeps) {}

  async submit(
    spec: TaskRequestSpec,
    body: unknown,
    idempotencyKey?: string,
    owner?: string,
  ): Promise<TaskCreatedResponse> {
    const request = parseBody(spec.schema, body, this.deps.maxIssues);
    const options: Record<string, unknown> = {};
    const payload: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(request)) {
      if ((TASK_OPTION_KEYS as string[]).includes(key)) options[key] = value;
      else if (value !== undefined) payload[key] = value;
    }
    const payloadBytes = Buffer.byteLength(JSON.stringify(payload));
    const { maxPayloadBytes } = TASK_TYPES[spec.apiName];
    if (payloadBytes > maxPayloadBytes) {
      throw new HttpError(
        413,
        `Payload too large: a ${spec.apiName} task takes at most ${maxPayloadBytes} bytes of JSON, this one has ${payloadBytes}`,
      );
    }
    const notBefore = this.notBefore(
      options.countdown as number | undefined,
      options.eta as string | undefined,
    );
    const priority = (options.priority as number | undefined) ?? spec.defaultPriority;

    let taskId: string = randomUUID();
    let idemKey: string | undefined;
    if (idempotencyKey !== undefined) {
      // Each key owner has its own Idempotency-Key space: another's key never answers its task.
      const scoped =
        owner === undefined ? validKey(idempotencyKey) : `${owner}:${validKey(idempotencyKey)}`;
      idemKey = this.deps.store.keys.idempotency(scoped);
      const bodySha = sha256(`${spec.apiName}\n${JSON.stringify(request)}`);
      const claimed = await this.claim(idemKey, {
        task_id: taskId,
        body_sha256: bodySha,
        confirmed: false,
      });
      if (claimed.body_sha256 !== bodySha) {
        throw unprocessable(
          ['header', 'Idempotency-Key'],
          'Idempotency-Key was already used with a different body',
        );
      }
      if (claimed.confirmed) return this.accepted(spec, claimed.task_id);
      taskId = claimed.task_id;
    }
    // A replay of a confirmed Idempotency-Key (above) creates nothing and costs nothing.
    await this.deps.budget?.charge(owner, { tasks: 1, emails: spec.apiName === 'email' ? 1 : 0 });

    const enqueue = (id: string | undefined): Promise<string> =>
      this.deps.enqueuer.enqueue({
        type: spec.routingKey,
        payload,
        priority,
        notBefore,
        taskId: id,
        idempotencyKey,
        producer: 'gateway',
        owner,
      });
    if (!idemKey) return this.accepted(spec, await enqueue(undefined));
    try {
      await enqueue(taskId);
    } catch (err) {
      const accepted = await this.abandonKey(idemKey, taskId);
      if (accepted) return this.accepted(spec, accepted);
      await this.deps.store.forget(taskId).catch(() => undefined);
      throw err;
    }
    if (!(await this.confirmKey(idemKey, taskId))) {
      await this.deps.store.forget(taskId).catch(() => undefined);
      throw new BrokerUnavailableError(
        'a concurrent request with this Idempotency-Key failed and revoked its task',
      );
    }
    return this.accepted(spec, taskId);
  }

  private accepted(spec: TaskRequestSpec, taskId: string): TaskCreatedResponse {
    return { task_id: taskId, status: 'queued', message: spec.queuedMessage };
  }

  /** countdown or eta as a time, validated against what the delay levels can hold. */
  private notBefore(countdown: number | undefined, eta: string | undefined): Date | undefined {
    if (countdown !== undefined && eta !== undefined) {
      throw unprocessable(['body', 'eta'], 'give countdown or eta, not both');
    }
    const limitMs = maxDelayMs(this.deps.delay);
    if (countdown !== undefined) {
      if (countdown * 1000 > limitMs) {
        throw unprocessable(
          ['body', 'countdown'],
          `countdown must be at most ${Math.floor(limitMs / 1000)} seconds`,
        );
      }
      return countdown > 0 ? new Date(Date.now() + countdown * 1000) : undefined;
    }
    if (eta !== undefined) {
      const at = new Date(eta);
      const waitMs = at.getTime() - Date.now();
      if (waitMs > limitMs) {
        throw unprocessable(
          ['body', 'eta'],
          `eta must be within ${Math.floor(limitMs / 1000)} seconds from now`,
        );
      }
      return waitMs > 0 ? at : undefined;
    }
    return undefined;
  }

  /** Stores `entry` unless the key exists; returns whichever entry holds the key. */
  private async claim(key: string, entry: IdempotencyEntry): Promise<IdempotencyEntry> {
    const set = await this.deps.redis.set(
      key,
      JSON.stringify(entry),
      'EX',
      this.deps.idempotencyTtlS,
      'NX',
    );
    if (set === 'OK') return entry;
    const existing = await this.deps.redis.get(key);
    if (!existing) return this.claim(key, entry); // expired in between
    return JSON.parse(existing) as IdempotencyEntry;
  }

  /** Marks the key's entry confirmed; false (nothing changed) when the id was revoked. */
  private async confirmKey(key: string, taskId: string): Promise<boolean> {
    const result = await this.deps.redis.eval(
      CONFIRM_KEY_SCRIPT,
      2,
      key,
      this.deps.store.keys.revoked(taskId),
      taskId,
    );
    return result === 1;
  }

  /**
   * After a failed enqueue: revokes the id and frees the key, in one step. Returns the key's
   * accepted task id instead (nothing revoked) when a concurrent request got it confirmed.
   */
  private async abandonKey(key: string, taskId: string): Promise<string | undefined> {
    const result = await this.deps.redis.eval(
      ABANDON_KEY_SCRIPT,
      2,
      key,
      this.deps.store.keys.revoked(taskId),
      taskId,
      String(FAILED_ENQUEUE_REVOKE_TTL_S),
    );
    return typeof result === 'string' && result.length > 0 ? result : undefined;
  }
}

function validKey(key: string): string {
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY) {
    throw unprocessable(
      ['header', 'Idempotency-Key'],
      `Idempotency-Key must be 1-${MAX_IDEMPOTENCY_KEY} characters`,
    );
  }
  return key;
}

/**
 * KEYS: idempotency entry, revocation of ARGV[1] (the task id). Confirms the entry if it is
 * still this id's and the id is not revoked: 1; revoked: 0. GET, not EXISTS: the gateway's
 * Redis user may run only the commands it needs.
 */
const CONFIRM_KEY_SCRIPT = `
if redis.call('GET', KEYS[2]) then return 0 end
local raw = redis.call('GET', KEYS[1])
if raw then
  local entry = cjson.decode(raw)
  if entry.task_id == ARGV[1] and not entry.confirmed then
    entry.confirmed = true
    redis.call('SET', KEYS[1], cjson.encode(entry), 'KEEPTTL')
  end
end
return 1`;

/**
 * KEYS: idempotency entry, revocation of ARGV[1] (the task id); ARGV[2]: revocation TTL (s).
 * A confirmed entry answers its task id (another request was accepted; ours is revoked if it
 * is a different id); else the entry is deleted if it is ours, the id revoked, and '' returned.
 */
const ABANDON_KEY_SCRIPT = `
local raw = redis.call('GET', KEYS[1])
if raw then
  local entry = cjson.decode(raw)
  if entry.confirmed then
    if entry.task_id ~= ARGV[1] then redis.call('SET', KEYS[2], '1', 'EX', ARGV[2]) end
    return entry.task_id
  end
  if entry.task_id == ARGV[1] then redis.call('DEL', KEYS[1]) end
end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
return ''`;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

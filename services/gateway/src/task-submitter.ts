/**
 * Accepts a task (DESIGN §3): validate → TaskEnqueuer (register PENDING, publish, wait for the
 * broker's confirm) → 202. A command the broker did not confirm is never answered 202: its record
 * is removed and the client gets 503.
 *
 * With an Idempotency-Key, the same key and body within IDEMPOTENCY_TTL_S answer the same task
 * id; the same key with another body is 422. A key whose first request never got its confirm
 * (crash, broker down) publishes the same task id again: workers are idempotent on it.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  maxDelayMs,
  TASK_OPTION_KEYS,
  TASK_TYPES,
  type TaskCreatedResponse,
} from '@tasks/contracts';
import type { Redis, TaskEnqueuer, TaskStore } from '@tasks/runtime';
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
    const priority = (options.priority as number | undefined) ?? 0;

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

    await this.deps.enqueuer.enqueue({
      type: spec.routingKey,
      payload,
      priority,
      notBefore,
      taskId,
      idempotencyKey,
      producer: 'gateway',
      owner,
    });
    if (idemKey) await this.confirmKey(idemKey, taskId);
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

  private async confirmKey(key: string, taskId: string): Promise<void> {
    const raw = await this.deps.redis.get(key);
    if (!raw) return;
    const entry = JSON.parse(raw) as IdempotencyEntry;
    if (entry.task_id !== taskId) return;
    await this.deps.redis.set(key, JSON.stringify({ ...entry, confirmed: true }), 'KEEPTTL');
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

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * The dead-letter view: list parked commands, replay one, drop one.
 *
 * Replay starts a new attempt of the same task id: the record is reopened as PENDING with
 * attempt = last attempt + 1 (the one sanctioned exit from a terminal state), the parked bytes
 * are published again with that attempt, then the entry is removed. Clients keep following the
 * id they already have. A replay first claims the dead letter atomically, so of concurrent
 * replays one publishes and the others get 409; a replay whose publish fails leaves the record
 * as it was and the dead letter replayable.
 */
import { setTimeout } from 'node:timers/promises';
import type {
  DeadLetterListResponse,
  DeadLetterView,
  MessageResponse,
  ReplayResponse,
} from '@tasks/contracts';
import {
  type CommandPublisher,
  type DeadLetter,
  type DeadLetterStore,
  errorCode,
  MessageHeaders,
  type TaskRecord,
  type TaskStore,
} from '@tasks/runtime';
import { HttpError } from './http-error';
import { checkReplayable } from './stored-commands';

export interface DeadLettersDeps {
  readonly deadLetters: DeadLetterStore;
  readonly store: TaskStore;
  readonly commands: CommandPublisher;
}

const PARKING_HEADERS: ReadonlySet<string> = new Set([
  MessageHeaders.parkReason,
  MessageHeaders.parkedAt,
  MessageHeaders.parkedBy,
  MessageHeaders.originalQueue,
  MessageHeaders.originalRoutingKey,
  MessageHeaders.attempt,
]);

/** A replay's claim on its dead letter outlasts any publish's confirm timeout. */
const REPLAY_CLAIM_MS = 120_000;
const COMPLETE_TRIES = 4;
const COMPLETE_RETRY_MS = 100;
/** How long a replayed command whose publish timed out stays revoked (a late copy is skipped). */
const UNKNOWN_OUTCOME_REVOKE_TTL_S = 30 * 86_400;

export class DeadLetters {
  constructor(private readonly deps: DeadLettersDeps) {}

  async list(limit: number, offset: number): Promise<DeadLetterListResponse> {
    const { total, items } = await this.deps.deadLetters.list(limit, offset);
    return { total, dead_letters: items.map(toView) };
  }

  async replay(taskId: string): Promise<ReplayResponse> {
    const claim = await this.deps.deadLetters.claimReplay(taskId, REPLAY_CLAIM_MS);
    if (claim.kind === 'missing') throw new HttpError(404, 'Dead letter not found');
    if (claim.kind === 'busy') throw new HttpError(409, 'Dead letter is being replayed');
    const { entry, token } = claim;
    let attempt: number;
    try {
      const record = await this.deps.store.get(taskId);
      const type = checkReplayable(taskId, entry, claim.storedBy, record);
      attempt = await this.publishAgain(entry, type, record);
    } catch (err) {
      await this.deps.deadLetters.releaseReplay(taskId, token).catch(() => undefined);
      throw err;
    }
    await this.complete(taskId, token);
    return {
      task_id: taskId,
      status: 'queued',
      message: 'Dead letter replayed as a new attempt',
      attempt,
    };
  }

  /**
   * Drops the replayed entry and its claim. The command is out: a passing Redis error must not
   * leave the entry to be replayed a second time, so the write is tried a few times.
   */
  private async complete(taskId: string, token: string): Promise<void> {
    for (let tries = 1; ; tries += 1) {
      try {
        await this.deps.deadLetters.completeReplay(taskId, token);
        return;
      } catch (err) {
        if (tries >= COMPLETE_TRIES) throw err;
        await setTimeout(COMPLETE_RETRY_MS * 2 ** (tries - 1));
      }
    }
  }

  /**
   * Reopens the record as the new attempt's PENDING, then publishes the parked bytes. The record
   * is reopened first so the new run's events find it open; if the publish fails, the record
   * and its revocation are put back as they were, and an outcome-unknown publish (timeout) is
   * revoked so a late copy is skipped. Returns the new attempt.
   */
  private async publishAgain(
    entry: DeadLetter,
    type: string,
    record: TaskRecord | undefined,
  ): Promise<number> {
    const { store } = this.deps;
    const taskId = entry.task_id;
    const before = await store.snapshot(taskId);
    const attempt = Math.max(entry.attempt, record?.attempt ?? 0) + 1;
    const now = new Date().toISOString();
    await store.redis.del(store.keys.revoked(taskId));
    await store.reopen({
      v: 1,
      task_id: taskId,
      type,
      state: 'PENDING',
      attempt,
      seq: 0,
      at: now,
      worker: 'gateway',
      created_at: record?.created_at ?? now,
      priority: entry.priority,
    });
    const headers = Object.fromEntries(
      Object.entries(entry.headers).filter(([key]) => !PARKING_HEADERS.has(key)),
    );
    try {
      await this.deps.commands.publishContent(Buffer.from(entry.content, 'utf8'), {
        taskId,
        type,
        priority: entry.priority,
        attempt,
        headers,
        failFast: true,
      });
    } catch (err) {
      await store.restore(before, attempt);
      if (errorCode(err) === 'PUBLISH_TIMEOUT') {
        await store.revoke(taskId, UNKNOWN_OUTCOME_REVOKE_TTL_S);
      }
      if (errorCode(err) === 'TASK_PERMANENT') {
        throw new HttpError(409, `Dead letter cannot be replayed: ${(err as Error).message}`);
      }
      throw err;
    }
    return attempt;
  }

  async drop(taskId: string): Promise<MessageResponse> {
    if (!(await this.deps.deadLetters.remove(taskId)))
      throw new HttpError(404, 'Dead letter not found');
    return { message: `Dead letter ${taskId} dropped` };
  }
}

function toView(entry: DeadLetter): DeadLetterView {
  let payload: unknown = null;
  try {
    payload = (JSON.parse(entry.content) as { payload?: unknown }).payload ?? null;
  } catch {
    payload = null;
  }
  return {
    task_id: entry.task_id,
    service: entry.service,
    type: entry.type,
    reason: entry.reason,
    parked_at: entry.parked_at,
    attempt: entry.attempt,
    payload,
  };
}

/**
 * The dead-letter view (DESIGN §8): list parked commands, replay one, drop one.
 *
 * Replay starts a new attempt of the same task id (DESIGN §6 leaves the choice): the record is
 * reopened as PENDING with attempt = last attempt + 1 (the one sanctioned exit from a terminal
 * state), the parked bytes are published again with that attempt, then the entry is removed.
 * Clients keep following the id they already have.
 */
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

export class DeadLetters {
  constructor(private readonly deps: DeadLettersDeps) {}

  async list(limit: number, offset: number): Promise<DeadLetterListResponse> {
    const { total, items } = await this.deps.deadLetters.list(limit, offset);
    return { total, dead_letters: items.map(toView) };
  }

  async replay(taskId: string): Promise<ReplayResponse> {
    const found = await this.deps.deadLetters.find(taskId);
    if (!found) throw new HttpError(404, 'Dead letter not found');
    const { entry } = found;
    const record = await this.deps.store.get(taskId);
    const type = checkReplayable(taskId, entry, found.storedBy, record);
    const attempt = Math.max(entry.attempt, record?.attempt ?? 0) + 1;
    const now = new Date().toISOString();
    await this.deps.store.redis.del(this.deps.store.keys.revoked(taskId));
    await this.deps.store.reopen({
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
      if (errorCode(err) === 'TASK_PERMANENT') {
        throw new HttpError(409, `Dead letter cannot be replayed: ${(err as Error).message}`);
      }
      throw err;
    }
    await this.deps.deadLetters.remove(taskId);
    return {
      task_id: taskId,
      status: 'queued',
      message: 'Dead letter replayed as a new attempt',
      attempt,
    };
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

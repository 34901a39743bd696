/**
 * Task states, with Celery's names kept verbatim, and the ordering the status-store
 * uses to decide whether an event moves a task forward.
 */
import { z } from 'zod';

export const TASK_STATES = [
  'PENDING',
  'STARTED',
  'PROGRESS',
  'RETRY',
  'SUCCESS',
  'FAILURE',
  'REVOKED',
] as const;

export const TaskState = z.enum(TASK_STATES);
export type TaskState = z.infer<typeof TaskState>;

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

/** True for SUCCESS, FAILURE and REVOKED: states a task never leaves. */
export const isTerminal = (state: TaskState): boolean => TERMINAL_STATES.has(state);

/**
 * Rank of a state within one attempt: PENDING < STARTED < PROGRESS < RETRY < terminal.
 * Events are ordered by (attempt, rank, seq), so within an attempt a terminal state beats any
 * other; a later attempt beats everything of an earlier one.
 */
export function stateRank(state: TaskState): number {
  switch (state) {
    case 'PENDING':
      return 0;
    case 'STARTED':
      return 1;
    case 'PROGRESS':
      return 2;
    case 'RETRY':
      return 3;
    default:
      return 4;
  }
}

/** The position of one event in a task's history; see {@link isNewer}. */
export interface EventPosition {
  readonly state: TaskState;
  readonly attempt: number;
  readonly seq: number;
}

/**
 * Whether `next` moves a task forward from `current`: never out of a terminal state
 * (a dead-letter replay reopens the task explicitly, see the runtime's TaskStore.reopen);
 * otherwise (attempt, rank, seq) compared in order. The Lua script in the runtime applies the
 * same rule atomically; an integration test keeps the two in step.
 */
export function isNewer(current: EventPosition | undefined, next: EventPosition): boolean {
  if (!current) return true;
  if (isTerminal(current.state)) return false;
  if (next.attempt !== current.attempt) return next.attempt > current.attempt;
  const rankDiff = stateRank(next.state) - stateRank(current.state);
  if (rankDiff !== 0) return rankDiff > 0;
  return next.seq > current.seq;
}

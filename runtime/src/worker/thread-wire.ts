/**
 * The messages between a worker's main thread and a handler's thread, and how errors cross
 * between them. Everything is structured-cloned; an error loses its class on the way, so it is
 * sent as its `code` and fields and rebuilt as the platform error with that code: the retry
 * policy (which classifies by code) sees the same error it would see in-process.
 */
import {
  DeferError,
  errorCode,
  PermanentError,
  PoisonMessageError,
  RevokedError,
  ShutdownError,
  SoftTimeLimitError,
  TimeLimitError,
} from '../errors';

/** An error as it crosses a thread boundary. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
  /** DeferError's wait. */
  readonly delayMs?: number;
  /** Time limits' length. */
  readonly limitMs?: number;
  /** RevokedError's task and whether the revoke terminates. */
  readonly taskId?: string;
  readonly terminate?: boolean;
}

/** Main thread → thread: run one attempt (a thread runs one at a time). */
export interface ThreadRun {
  readonly kind: 'run';
  /** Tags every message of this attempt, both ways. */
  readonly runId: number;
  /** The module whose default export is a `defineThreadHandler(...)`. */
  readonly module: string;
  readonly options: unknown;
  /** Names of the main thread's functions the handler may call. */
  readonly hostCalls: readonly string[];
  readonly payload: unknown;
  readonly task: { readonly taskId: string; readonly type: string; readonly attempt: number };
}

/** Thread → main thread. */
export type ThreadMessage =
  | { readonly kind: 'result'; readonly runId: number; readonly value: unknown }
  | { readonly kind: 'error'; readonly runId: number; readonly error: WireError }
  | {
      readonly kind: 'call';
      readonly runId: number;
      readonly id: number;
      /** `progress`, or a host call's name. */
      readonly name: string;
      readonly args: readonly unknown[];
    }
  | {
      readonly kind: 'log';
      readonly runId: number;
      readonly level: LogLevel;
      readonly msg: string;
      readonly fields?: Record<string, unknown>;
    };

/** Main thread → thread. */
export type HostMessage =
  | ThreadRun
  | { readonly kind: 'abort'; readonly runId: number; readonly reason: WireError }
  | { readonly kind: 'reply'; readonly id: number; readonly value: unknown }
  | { readonly kind: 'reply-error'; readonly id: number; readonly error: WireError };

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** The call name of `ctx.progress` (host calls may not use it). */
export const PROGRESS_CALL = 'progress';

/** Flattens any thrown value for postMessage. */
export function toWire(err: unknown): WireError {
  if (!(err instanceof Error)) {
    return { name: 'Error', message: typeof err === 'string' ? err : safeString(err) };
  }
  const fields = err as Error & Partial<Omit<WireError, 'name' | 'message' | 'stack'>>;
  const code = errorCode(err) ?? (typeof fields.code === 'string' ? fields.code : undefined);
  return {
    name: err.name,
    message: err.message,
    ...(code === undefined ? {} : { code }),
    ...(err.stack === undefined ? {} : { stack: err.stack }),
    ...(typeof fields.delayMs === 'number' ? { delayMs: fields.delayMs } : {}),
    ...(typeof fields.limitMs === 'number' ? { limitMs: fields.limitMs } : {}),
    ...(typeof fields.taskId === 'string' ? { taskId: fields.taskId } : {}),
    ...(fields.terminate === true ? { terminate: true } : {}),
  };
}

/**
 * Rebuilds an error that crossed a thread boundary: a platform code becomes that platform error
 * (so it is classified as it would be in-process); anything else a plain, transient Error that
 * keeps its name, message and stack.
 */
export function fromWire(wire: WireError): Error {
  const err = platformError(wire) ?? new Error(wire.message);
  if (!errorCode(err)) {
    err.name = wire.name;
    if (wire.code !== undefined) Object.assign(err, { code: wire.code });
  }
  if (wire.stack !== undefined) err.stack = wire.stack;
  return err;
}

function platformError(wire: WireError): Error | undefined {
  switch (wire.code) {
    case 'TASK_PERMANENT':
      return new PermanentError(wire.message);
    case 'TASK_POISON':
      return new PoisonMessageError(wire.message);
    case 'TASK_DEFER':
      return new DeferError(wire.message, wire.delayMs ?? 0);
    case 'TASK_TIME_LIMIT':
      return new TimeLimitError(wire.limitMs ?? 0);
    case 'TASK_SOFT_TIME_LIMIT':
      return new SoftTimeLimitError(wire.limitMs ?? 0);
    case 'TASK_REVOKED':
      return new RevokedError(wire.taskId ?? '', { terminate: wire.terminate === true });
    case 'TASK_SHUTDOWN':
      return new ShutdownError();
    default:
      return undefined;
  }
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Errors that become HTTP answers, in FastAPI's shapes: `{detail: "..."}`, or 422
 * `{detail: [{loc, msg, type}]}` for invalid input.
 */
import type { ValidationIssue } from '@tasks/contracts';
import { errorCode } from '@tasks/runtime';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string | ValidationIssue[],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(typeof detail === 'string' ? detail : 'validation failed');
    this.name = 'HttpError';
  }
}

/** 422 with one issue at `loc`. */
export const unprocessable = (
  loc: (string | number)[],
  msg: string,
  type = 'value_error',
): HttpError => new HttpError(422, [{ loc, msg, type }]);

/** Seconds a client should wait before retrying after a 503. */
const RETRY_AFTER_S = '5';

/** Maps any error to the answer the client gets. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  switch (errorCode(err)) {
    case 'BROKER_UNAVAILABLE':
    case 'PUBLISH_TIMEOUT':
    case 'PUBLISH_NACKED':
      return new HttpError(
        503,
        `Task not accepted: the message broker is unavailable (${(err as Error).message})`,
        {
          'Retry-After': RETRY_AFTER_S,
        },
      );
    case 'STORE_UNAVAILABLE':
      return new HttpError(503, 'The task store is unavailable', { 'Retry-After': RETRY_AFTER_S });
    default:
      if (isRedisError(err)) {
        return new HttpError(503, 'The task store is unavailable', {
          'Retry-After': RETRY_AFTER_S,
        });
      }
      return new HttpError(500, 'Internal Server Error');
  }
}

/** ioredis's own errors: a reply error, a command given up on, one aborted by a closed link. */
const REDIS_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ReplyError',
  'MaxRetriesPerRequestError',
  'AbortError',
]);
/** The messages of a lost or unreachable Redis (or of the sentinels that name it). */
const REDIS_DOWN =
  /Command timed out|Connection is closed|Stream isn't writeable|All sentinels are unreachable|Ready check failed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH/;

/**
 * Redis failing, not the request: an ioredis error, or a socket error of its link (a master
 * killed mid-command resets it: `read ECONNRESET`).
 */
export function isRedisError(err: unknown): boolean {
  const { name, message, syscall } = (err ?? {}) as {
    name?: unknown;
    message?: unknown;
    syscall?: unknown;
  };
  return (
    (typeof name === 'string' && REDIS_ERROR_NAMES.has(name)) ||
    typeof syscall === 'string' ||
    (typeof message === 'string' && REDIS_DOWN.test(message))
  );
}

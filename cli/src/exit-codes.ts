/** The command's exit codes, which scripts branch on. */
import {
  TasksAuthError,
  TasksConnectionError,
  TasksNotFoundError,
  TasksUnavailableError,
  TasksValidationError,
} from '@tasks/client';

export const EXIT = {
  /** SUCCESS, or the command done. */
  ok: 0,
  /** The task (or workflow) ended FAILURE or REVOKED; or another failure. */
  failed: 1,
  /** Invalid input: a bad argument, or the gateway's 422 (the message names the field). */
  invalid: 2,
  /** The gateway is unreachable, unavailable, or refused the API key. */
  unreachable: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake in the command line itself, found before any request. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function exitCodeOfState(state: string): ExitCode {
  return state === 'SUCCESS' ? EXIT.ok : EXIT.failed;
}

export function exitCodeOfError(err: unknown): ExitCode {
  if (err instanceof UsageError || err instanceof TasksValidationError) return EXIT.invalid;
  if (err instanceof TasksNotFoundError) return EXIT.invalid;
  if (
    err instanceof TasksConnectionError ||
    err instanceof TasksAuthError ||
    err instanceof TasksUnavailableError
  ) {
    return EXIT.unreachable;
  }
  return EXIT.failed;
}

/**
 * The platform's error set. Stable codes, each documented in docs/errors.md (errors.test.ts keeps
 * the two in step). Match on `code`, not `instanceof`: jest gives each test file its own realm.
 */
export type TaskErrorCode =
  | 'TASK_PERMANENT'
  | 'TASK_POISON'
  | 'TASK_TIME_LIMIT'
  | 'TASK_SOFT_TIME_LIMIT'
  | 'TASK_REVOKED'
  | 'TASK_SHUTDOWN'
  | 'TASK_DEFER';

export type PlatformErrorCode =
  | TaskErrorCode
  | 'CONFIG_INVALID'
  | 'PUBLISH_TIMEOUT'
  | 'PUBLISH_NACKED'
  | 'BROKER_UNAVAILABLE'
  | 'STORE_UNAVAILABLE'
  | 'ILLEGAL_STATE';

/** Base of every error the platform throws on purpose. */
export abstract class PlatformError extends Error {
  abstract readonly code: PlatformErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Throw from a handler to fail the task at once, without retries. */
export class PermanentError extends PlatformError {
  readonly code = 'TASK_PERMANENT';
}

/** A message that can never be processed (unparseable, schema-invalid): it is parked. */
export class PoisonMessageError extends PlatformError {
  readonly code = 'TASK_POISON';
}

/** The hard time limit of an attempt passed: the attempt fails and is retried if it may. */
export class TimeLimitError extends PlatformError {
  readonly code = 'TASK_TIME_LIMIT';
  constructor(readonly limitMs: number) {
    super(`task exceeded its time limit of ${limitMs} ms`);
  }
}

/** The soft time limit passed: the handler's signal aborts with this reason. */
export class SoftTimeLimitError extends PlatformError {
  readonly code = 'TASK_SOFT_TIME_LIMIT';
  constructor(readonly limitMs: number) {
    super(`task exceeded its soft time limit of ${limitMs} ms`);
  }
}

/**
 * The task was cancelled: the handler's signal aborts with this reason. `terminate` (a cancel
 * with `?terminate=true`): a handler running in its own thread is stopped at once, not asked.
 */
export class RevokedError extends PlatformError {
  readonly code = 'TASK_REVOKED';
  readonly terminate: boolean;
  constructor(
    readonly taskId: string,
    options: { readonly terminate?: boolean } = {},
  ) {
    super(`task ${taskId} was revoked`);
    this.terminate = options.terminate ?? false;
  }
}

/** The worker is shutting down past its drain time: the task is handed back to the queue. */
export class ShutdownError extends PlatformError {
  readonly code = 'TASK_SHUTDOWN';
  constructor() {
    super('worker is shutting down');
  }
}

/**
 * Run the task again after `delayMs` without counting an attempt (e.g. an open circuit breaker:
 * the dependency is down, the task is not at fault).
 */
export class DeferError extends PlatformError {
  readonly code = 'TASK_DEFER';
  constructor(
    message: string,
    readonly delayMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A setting is missing or invalid; the message names the variable, never its value. */
export class ConfigError extends PlatformError {
  readonly code = 'CONFIG_INVALID';
  constructor(
    message: string,
    readonly variables: readonly string[],
  ) {
    super(message);
  }
}

/** The broker did not confirm a publish in time: the outcome is unknown, not "not sent". */
export class PublishTimeoutError extends PlatformError {
  readonly code = 'PUBLISH_TIMEOUT';
}

/** The broker refused a publish (nack, or unroutable with `mandatory`). */
export class PublishNackedError extends PlatformError {
  readonly code = 'PUBLISH_NACKED';
}

/** The broker is not connected or is blocking publishers (memory or disk alarm). */
export class BrokerUnavailableError extends PlatformError {
  readonly code = 'BROKER_UNAVAILABLE';
}

/** Redis did not answer. */
export class StoreUnavailableError extends PlatformError {
  readonly code = 'STORE_UNAVAILABLE';
}

/** A call was made in a lifecycle state that does not allow it. */
export class IllegalStateError extends PlatformError {
  readonly code = 'ILLEGAL_STATE';
}

/** The `code` of an error the platform threw on purpose, or undefined. */
export function errorCode(err: unknown): PlatformErrorCode | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    if (typeof code === 'string' && ALL_CODES.has(code)) return code as PlatformErrorCode;
  }
  return undefined;
}

/** Every {@link PlatformErrorCode}; docs/errors.md lists exactly these (errors.test.ts). */
export const ERROR_CODES = [
  'TASK_PERMANENT',
  'TASK_POISON',
  'TASK_TIME_LIMIT',
  'TASK_SOFT_TIME_LIMIT',
  'TASK_REVOKED',
  'TASK_SHUTDOWN',
  'TASK_DEFER',
  'CONFIG_INVALID',
  'PUBLISH_TIMEOUT',
  'PUBLISH_NACKED',
  'BROKER_UNAVAILABLE',
  'STORE_UNAVAILABLE',
  'ILLEGAL_STATE',
] as const satisfies readonly PlatformErrorCode[];

const ALL_CODES: ReadonlySet<string> = new Set<string>(ERROR_CODES);

/** A one-line description of any thrown value, for `error` fields and logs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

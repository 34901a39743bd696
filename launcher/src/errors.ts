/**
 * The launcher's error set. Each class has a stable `code`; main.ts maps codes to exit codes
 * (usage and configuration errors exit 2, everything else 1).
 * Match on `code`, not `instanceof`: jest gives each test file its own realm.
 */
export type LauncherErrorCode =
  | 'LAUNCHER_USAGE'
  | 'LAUNCHER_CONFIG'
  | 'LAUNCHER_NOT_BUILT'
  | 'LAUNCHER_PREFLIGHT'
  | 'LAUNCHER_ILLEGAL_STATE';

/** Base class of every error the launcher throws on purpose. */
export abstract class LauncherError extends Error {
  abstract readonly code: LauncherErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A command-line argument is unknown or malformed; the message names the flag. */
export class UsageError extends LauncherError {
  readonly code = 'LAUNCHER_USAGE';
}

/** An environment variable has a value the launcher cannot use; the message names it. */
export class ConfigError extends LauncherError {
  readonly code = 'LAUNCHER_CONFIG';

  constructor(
    /** The environment variable at fault, e.g. `GATEWAY_PORT`. */
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

/** One or more `services/<name>/dist/main.js` files are missing: the build has not run. */
export class NotBuiltError extends LauncherError {
  readonly code = 'LAUNCHER_NOT_BUILT';

  constructor(
    /** Absolute paths of the missing entry points. */
    readonly missing: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

/** RabbitMQ, Redis or the gateway port failed its check before anything was started. */
export class PreflightError extends LauncherError {
  readonly code = 'LAUNCHER_PREFLIGHT';

  constructor(
    /** Names of the checks that failed, e.g. `['rabbitmq']`. */
    readonly failedChecks: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

/** A method was called in a lifecycle state that does not allow it. */
export class IllegalStateError extends LauncherError {
  readonly code = 'LAUNCHER_ILLEGAL_STATE';

  constructor(
    /** The state the object was in when the call was made. */
    readonly state: string,
    message: string,
  ) {
    super(message);
  }
}

const CODES: ReadonlySet<string> = new Set<LauncherErrorCode>([
  'LAUNCHER_USAGE',
  'LAUNCHER_CONFIG',
  'LAUNCHER_NOT_BUILT',
  'LAUNCHER_PREFLIGHT',
  'LAUNCHER_ILLEGAL_STATE',
]);

/** True when `err` carries one of the launcher's error codes (works across module copies). */
export function isLauncherError(err: unknown): err is LauncherError {
  if (typeof err !== 'object' || err === null || !('code' in err)) return false;
  const { code } = err;
  return typeof code === 'string' && CODES.has(code);
}

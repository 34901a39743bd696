import type { Logger } from '../logging/logger';

/** A logger that drops everything, for unit tests of code that logs. */
export const silentLog: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
  child: () => silentLog,
  isLevelEnabled: () => false,
  flush() {},
};

import type { Logger } from '../logging/logger';

/** The levels a Logger writes at. */
export type LoggedLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** One line a recording log was given: its level and constant message. */
export interface LoggedLine {
  readonly level: LoggedLevel;
  readonly msg: string;
}

/**
 * A logger that writes nothing and pushes every line (its children's too) onto `lines`, so a
 * test can wait for, or assert, what the code under test logged.
 */
export function recordingLog(lines: LoggedLine[]): Logger {
  const at =
    (level: LoggedLevel) =>
    (msg: string): void => {
      lines.push({ level, msg });
    };
  const log: Logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: () => log,
    isLevelEnabled: () => false,
    flush() {},
  };
  return log;
}

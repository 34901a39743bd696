/**
 * The launcher's own log lines. They go through the same sink as the children's, as pino-shaped
 * records, so they look the same in both formats.
 */
import { LAUNCHER_LABEL } from './label';
import type { OutputSink } from './output-sink';

/** Fields of a log line: a constant message plus these, never interpolated. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** The logging surface the supervisor and main use. */
export interface LauncherLog {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** A {@link LauncherLog} writing pino-shaped records to `sink` under the label `launcher`. */
export function createLauncherLog(sink: OutputSink, now: () => number = Date.now): LauncherLog {
  const write = (level: number, msg: string, fields: LogFields = {}): void => {
    sink.writeLine(LAUNCHER_LABEL, JSON.stringify({ level, time: now(), msg, ...fields }));
  };
  return {
    info: (msg, fields) => write(30, msg, fields),
    warn: (msg, fields) => write(40, msg, fields),
    error: (msg, fields) => write(50, msg, fields),
  };
}

/**
 * Turns one pino JSON log line into `HH:MM:SS.mmm LEVEL msg key=value ...`. Pure: no I/O.
 */
import { paint, type AnsiStyle } from './ansi';

/** pino's numeric levels and the names printed for them. */
export const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/**
 * Fields not printed as `key=value`: shown elsewhere in the line, or the same on every line.
 * `level_name` repeats `level` (the runtime's logger adds it for log shippers).
 */
export const DROPPED_FIELDS: ReadonlySet<string> = new Set([
  'pid',
  'hostname',
  'time',
  'level',
  'level_name',
  'msg',
  'service',
]);

const LEVEL_STYLES: Readonly<Record<string, AnsiStyle>> = {
  TRACE: 'gray',
  DEBUG: 'blue',
  INFO: 'green',
  WARN: 'yellow',
  ERROR: 'red',
  FATAL: 'whiteOnRed',
};

/** How {@link formatLogLine} renders. */
export interface LogFormatOptions {
  /** `json` returns every line unchanged. */
  readonly format: 'pretty' | 'json';
  /** Colour the level, dim the time and the field names. */
  readonly color: boolean;
  /** Time shown for a record without a usable `time` field, ms since the epoch. */
  readonly receivedAtMs: number;
}

/** A parsed JSON log record. */
export type LogRecord = Readonly<Record<string, unknown>>;

/**
 * Formats one line a child wrote (without its newline). A JSON object with a `level` or a `msg`
 * field becomes `HH:MM:SS.mmm LEVEL msg key=value ...` in local time; string values are quoted
 * only when they contain spaces, quotes or `=`, objects and arrays are JSON-encoded. An error
 * object's `stack` is printed on the following lines, indented. Anything else comes back as it
 * was. The result may span several lines; it never ends with a newline.
 */
export function formatLogLine(line: string, options: LogFormatOptions): string {
  if (options.format === 'json') return line;
  const record = parseLogRecord(line);
  return record === undefined ? line : formatLogRecord(record, options);
}

/** The record in `line` when it is a JSON object with `level` or `msg`; otherwise `undefined`. */
export function parseLogRecord(line: string): LogRecord | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (!isObject(value) || !('level' in value || 'msg' in value)) return undefined;
  return value;
}

/** Formats a parsed record; see {@link formatLogLine}. */
export function formatLogRecord(
  record: LogRecord,
  options: Pick<LogFormatOptions, 'color' | 'receivedAtMs'>,
): string {
  const { color } = options;
  const level = levelName(record.level);
  const head = [
    paint(formatClock(recordTime(record.time) ?? options.receivedAtMs), 'dim', color),
    paint(level.padEnd(5), LEVEL_STYLES[level] ?? 'bold', color),
  ];
  if (record.msg !== undefined && record.msg !== '') {
    head.push(typeof record.msg === 'string' ? record.msg : JSON.stringify(record.msg));
  }
  const stacks: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (DROPPED_FIELDS.has(key)) continue;
    let shown = value;
    if (isObject(value) && typeof value.stack === 'string') {
      const { stack, ...rest } = value;
      stacks.push(stack);
      shown = rest;
    }
    head.push(`${paint(`${key}=`, 'dim', color)}${formatValue(shown)}`);
  }
  const lines = [head.join(' ')];
  for (const stack of stacks) {
    for (const stackLine of stack.split('\n')) lines.push(`    ${stackLine}`);
  }
  return lines.join('\n');
}

/** `HH:MM:SS.mmm` of `epochMs` in local time. */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(
    d.getMilliseconds(),
  ).padStart(3, '0')}`;
}

/** The printed name of a pino level: `30` → `INFO`, `"warn"` → `WARN`, `35` → `L35`. */
export function levelName(level: unknown): string {
  if (typeof level === 'number') return LEVEL_NAMES[level] ?? `L${level}`;
  if (typeof level === 'string' && level !== '') return level.toUpperCase();
  return '-';
}

function recordTime(time: unknown): number | undefined {
  const ms = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"'=]+$/.test(value) ? value : JSON.stringify(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  // JSON.stringify gives undefined for functions and symbols.
  return JSON.stringify(value) ?? typeof value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Shared pieces of the email-worker tests. */
import { errorCode, type Logger } from '@tasks/runtime';

export { EMAIL_TEMPLATES, EmailSendPayload } from '@tasks/contracts';

/** A logger that drops everything. */
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
} as unknown as Logger;

/** The platform error code `fn` throws, or 'none'. */
export function errorCodeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return errorCode(err) ?? 'no code';
  }
  return 'none';
}

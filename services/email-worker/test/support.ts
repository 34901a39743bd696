/** Shared pieces of the email-worker tests. */
import { errorCode } from '@tasks/runtime';

export { EMAIL_TEMPLATES, EmailSendPayload } from '@tasks/contracts';

/** The platform error code `fn` throws, or 'none'. */
export function errorCodeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return errorCode(err) ?? 'no code';
  }
  return 'none';
}

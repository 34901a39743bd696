/** Shared pieces of the email-worker tests. */
import { errorCode } from '@tasks/runtime';

export { EmailSendPayload } from '@tasks/contracts';
export { EMAIL_TEMPLATES } from '../src/email-templates';

/** The platform error code `fn` throws, or 'none'. */
export function errorCodeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return errorCode(err) ?? 'no code';
  }
  return 'none';
}

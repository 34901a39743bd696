/**
 * `task.email.send`: deliver one e-mail.
 *
 * Published by gateway and scheduler; consumed by email-worker from `email-worker.tasks`.
 * The worker is idempotent on `task_id` (DESIGN §7). Unknown payload fields are kept (DESIGN §4).
 */
import { z } from 'zod';
import { CommandEnvelope } from '../envelope';
import { commandKey } from '../routing-keys';

export const EMAIL_SEND = commandKey('email', 'send');

/** A header value must not carry CR or LF: that is how SMTP headers get injected. */
const singleLine = (what: string) =>
  z.string().refine((s) => !/[\r\n]/.test(s), { message: `${what} must be a single line` });

export const EmailSendPayload = z.looseObject({
  email: z.email().max(320),
  subject: singleLine('subject').pipe(z.string().max(998)),
  body: z.string(),
});
export type EmailSendPayload = z.infer<typeof EmailSendPayload>;

export const EmailSendCommand = CommandEnvelope.extend({
  type: z.literal(EMAIL_SEND),
  payload: EmailSendPayload,
});
export type EmailSendCommand = z.infer<typeof EmailSendCommand>;

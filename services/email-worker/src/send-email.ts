/**
 * Delivers `task.email.send`; idempotent on task_id (DESIGN §7).
 *
 * reserve `effect:email:<task_id>` → (simulated failure, if configured) → send with
 * Message-ID = task id → mark done with the result. A redelivery that finds "done" returns the
 * stored result and sends nothing. SMTP 5xx replies are final and become PermanentError; 4xx
 * replies and network errors are left to the runtime's retries.
 */
import type { EmailSendPayload } from '@tasks/contracts';
import { type EffectLedger, PermanentError, type TaskHandler } from '@tasks/runtime';
import { isPermanentSmtpReply, type Mailer } from './mailer';

/** The original's result shape (CONTRACT.md), plus the Message-ID we sent with. */
export interface SendEmailResult {
  readonly status: 'sent';
  readonly email: string;
  readonly subject: string;
  readonly sent_at: string;
  readonly attempt: number;
  readonly message_id: string;
}

export interface SendEmailDeps {
  readonly mailer: Mailer;
  readonly ledger: EffectLedger<SendEmailResult>;
  /** Throws a simulated transient error for some attempts (off by default). */
  readonly injectFailure: (attempt: number) => void;
  /** Domain of the Message-ID: `<task id>@<domain>`. */
  readonly messageIdDomain: string;
}

export function createSendEmail(
  deps: SendEmailDeps,
): TaskHandler<EmailSendPayload, SendEmailResult> {
  return async (payload, ctx) => {
    const previous = await deps.ledger.reserve(ctx.taskId);
    if (previous.state === 'done') return previous.result;
    try {
      deps.injectFailure(ctx.attempt);
      ctx.signal.throwIfAborted();
      const sent = await deps.mailer.send({
        to: payload.email,
        subject: payload.subject,
        text: payload.body,
        messageId: `<${ctx.taskId}@${deps.messageIdDomain}>`,
      });
      const result: SendEmailResult = {
        status: 'sent',
        email: payload.email,
        subject: payload.subject,
        sent_at: sent.acceptedAt.toISOString(),
        attempt: ctx.attempt,
        message_id: sent.messageId,
      };
      await deps.ledger.markDone(ctx.taskId, result);
      return result;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'TASK_DEFER') {
        await deps.ledger.release(ctx.taskId).catch(() => undefined);
      }
      if (isPermanentSmtpReply(err)) {
        throw new PermanentError(`SMTP server refused the message: ${(err as Error).message}`, {
          cause: err,
        });
      }
      throw err;
    }
  };
}

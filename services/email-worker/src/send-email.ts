/**
 * Delivers `task.email.send`; idempotent on task_id (DESIGN §7).
 *
 * reserve `effect:email:<task_id>` (a done reservation returns the stored result and sends
 * nothing) → render (template or as written) → breaker open? defer → rate-limit slot (or defer
 * until it) → simulated failure, if configured → send with Message-ID `<task id@domain>` → mark
 * done with the result. Deferrals (open breaker, rate limit) count no attempt. An SMTP 5xx reply
 * is final and becomes PermanentError with the server's text; 4xx replies and connection errors
 * are thrown as they are, for the runtime's retries (smtp-errors.ts). A failure before the server
 * accepted the message gives the reservation up, so the next attempt may send at once.
 */
import type { EmailSendPayload } from '@tasks/contracts';
import { type EffectLedger, PermanentError, type TaskHandler } from '@tasks/runtime';
import type { Mailer } from './mailer';
import { renderEmail } from './render-email';
import { classifySmtpError } from './smtp-errors';

/** The original's result shape (CONTRACT.md), plus the Message-ID we sent with. */
export interface SendEmailResult {
  readonly status: 'sent';
  readonly email: string;
  readonly subject: string;
  readonly sent_at: string;
  readonly attempt: number;
  readonly message_id: string;
  /** The template used, when there was one. */
  readonly template?: string;
}

/** A per-domain send rate limit; throws DeferError with the wait when over it. */
export interface SendRateLimiter {
  acquire(address: string, taskId: string): Promise<void>;
}

export interface SendEmailDeps {
  readonly mailer: Mailer;
  readonly ledger: EffectLedger<SendEmailResult>;
  /** Throws a simulated transient error for some attempts (off by default). */
  readonly injectFailure: (attempt: number) => void;
  /** Domain of the Message-ID: `<task id>@<domain>`. */
  readonly messageIdDomain: string;
  /** Absent: no rate limit. */
  readonly rateLimiter?: SendRateLimiter;
}

export function createSendEmail(
  deps: SendEmailDeps,
): TaskHandler<EmailSendPayload, SendEmailResult> {
  return async (payload, ctx) => {
    const previous = await deps.ledger.reserve(ctx.taskId);
    if (previous.state === 'done') return previous.result;
    let accepted = false;
    try {
      const mail = renderEmail(payload);
      deps.mailer.assertAvailable();
      await deps.rateLimiter?.acquire(payload.email, ctx.taskId);
      deps.injectFailure(ctx.attempt);
      ctx.signal.throwIfAborted();
      const sent = await deps.mailer.send({
        to: payload.email,
        ...mail,
        messageId: `<${ctx.taskId}@${deps.messageIdDomain}>`,
      });
      accepted = true;
      const result: SendEmailResult = {
        status: 'sent',
        email: payload.email,
        subject: mail.subject,
        sent_at: sent.acceptedAt.toISOString(),
        attempt: ctx.attempt,
        message_id: sent.messageId,
        ...(payload.template !== undefined ? { template: payload.template } : {}),
      };
      await deps.ledger.markDone(ctx.taskId, result);
      return result;
    } catch (err) {
      // Once the server accepted the message the reservation stays until it expires: a retry
      // soon after must not send it again.
      if (!accepted) {
        await deps.ledger.release(ctx.taskId).catch((releaseErr: unknown) =>
          ctx.log.warn('e-mail reservation not released; it expires', {
            err: String(releaseErr),
          }),
        );
      }
      const failure = classifySmtpError(err);
      if (failure.kind === 'permanent') {
        throw new PermanentError(`SMTP server refused the message: ${(err as Error).message}`, {
          cause: err,
        });
      }
      throw err;
    }
  };
}

/**
 * Delivers `task.email.send`; idempotent on task_id.
 *
 * reserve `effect:email:<task_id>` (a done reservation returns the stored result and sends
 * nothing) → render (template or as written) → breaker open? defer → rate-limit slot (or defer
 * until it) → simulated failure, if configured → send with Message-ID `<task id@domain>` → mark
 * done with the result. Deferrals (open breaker, rate limit) count no attempt. An SMTP 5xx reply
 * is final and becomes PermanentError with the server's text; 4xx replies and connection errors
 * are thrown as they are, for the runtime's retries (smtp-errors.ts). A failure before the server
 * accepted the message gives the reservation up, so the next attempt may send at once; after it,
 * the "done" mark is retried while the reservation is held (recordSent), never re-sent.
 */
import { setTimeout } from 'node:timers/promises';
import type { EmailSendPayload } from '@tasks/contracts';
import {
  describeError,
  type EffectLedger,
  PermanentError,
  type TaskContext,
  type TaskHandler,
} from '@tasks/runtime';
import type { Mailer } from './mailer';
import { renderEmail } from './render-email';
import { classifySmtpError } from './smtp-errors';

/** The original's result shape, plus the Message-ID we sent with. */
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
  /**
   * How long to keep retrying the "sent" record after the server accepted a message before
   * failing the task for good. @default MARK_SENT_PATIENCE_MS
   */
  readonly markSentPatienceMs?: number;
}

/** Redis refusing to record a send for this long fails the task (it is never sent again). */
export const MARK_SENT_PATIENCE_MS = 10 * 60_000;
const MARK_SENT_FIRST_WAIT_MS = 100;
const MARK_SENT_MAX_WAIT_MS = 5000;

export function createSendEmail(
  deps: SendEmailDeps,
): TaskHandler<EmailSendPayload, SendEmailResult> {
  return async (payload, ctx) => {
    const previous = await deps.ledger.reserve(ctx.taskId);
    if (previous.state === 'done') return previous.result;
    const result = await sendReserved(deps, payload, ctx);
    await recordSent(deps, ctx, result);
    return result;
  };
}

/** Renders and sends under the caller's reservation; gives it up if nothing was accepted. */
async function sendReserved(
  deps: SendEmailDeps,
  payload: EmailSendPayload,
  ctx: TaskContext,
): Promise<SendEmailResult> {
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
    return {
      status: 'sent',
      email: payload.email,
      subject: mail.subject,
      sent_at: sent.acceptedAt.toISOString(),
      attempt: ctx.attempt,
      message_id: sent.messageId,
      ...(payload.template !== undefined ? { template: payload.template } : {}),
    };
  } catch (err) {
    // Nothing was accepted: the next attempt may send at once.
    await deps.ledger.release(ctx.taskId).catch((releaseErr: unknown) =>
      ctx.log.warn('e-mail reservation not released; it expires', {
        err: String(releaseErr),
      }),
    );
    const failure = classifySmtpError(err);
    if (failure.kind === 'permanent') {
      throw new PermanentError(`SMTP server refused the message: ${(err as Error).message}`, {
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * Records an accepted message as sent. Redis refusing the write must not lead to a second send:
 * the write is retried with backoff while the reservation is kept alive (so no other attempt
 * may send), whatever the task's signal says; after `markSentPatienceMs` the task fails for
 * good (PermanentError: no retry) rather than being retried into sending it again.
 */
async function recordSent(
  deps: SendEmailDeps,
  ctx: TaskContext,
  result: SendEmailResult,
): Promise<void> {
  const giveUpAt = Date.now() + (deps.markSentPatienceMs ?? MARK_SENT_PATIENCE_MS);
  for (
    let waitMs = MARK_SENT_FIRST_WAIT_MS;
    ;
    waitMs = Math.min(2 * waitMs, MARK_SENT_MAX_WAIT_MS)
  ) {
    try {
      await deps.ledger.markDone(ctx.taskId, result);
      return;
    } catch (err) {
      if (Date.now() + waitMs > giveUpAt) {
        ctx.log.error('e-mail sent but not recorded as sent; the task fails, it is not resent', {
          err: describeError(err),
          message_id: result.message_id,
        });
        throw new PermanentError(
          `the SMTP server accepted the message (${result.message_id}) but recording it as ` +
            `sent failed; it is not sent again: ${(err as Error).message}`,
          { cause: err },
        );
      }
      ctx.log.warn('e-mail sent but not recorded yet; retrying', {
        err: describeError(err),
        retry_in_ms: waitMs,
      });
      await deps.ledger.extend(ctx.taskId).catch(() => false);
      await setTimeout(waitMs);
    }
  }
}

/**
 * The `task.email.send` handler with a fake mailer and an in-memory effect ledger:
 * reserve, send with Message-ID `<task id@domain>`, mark done; a done reservation returns the
 * stored result and sends nothing; SMTP 5xx is permanent, 4xx is left to the retries; an open
 * breaker or the rate limit defers before anything is sent, giving the reservation up; templates
 * are rendered before sending.
 */
import type { EmailSendPayload } from '@tasks/contracts';
import {
  classify,
  DeferError,
  type EffectLedger,
  errorCode,
  type Reservation,
  RevokedError,
  type TaskContext,
} from '@tasks/runtime';
import { fakeTaskContext } from '@tasks/runtime/testing';
import { SimulatedProviderError } from '../src/failure-injector';
import type { Mailer, OutgoingMail } from '../src/mailer';
import { createSendEmail, type SendEmailResult, type SendRateLimiter } from '../src/send-email';

type Entry = { state: 'reserved' } | { state: 'done'; result: SendEmailResult };

/** The EffectLedger's shape over a Map, with the same rules as the Redis one. */
class MemoryLedger implements Pick<
  EffectLedger<SendEmailResult>,
  'reserve' | 'markDone' | 'release' | 'extend'
> {
  readonly entries = new Map<string, Entry>();

  reserve(taskId: string): Promise<Reservation<SendEmailResult>> {
    const entry = this.entries.get(taskId);
    if (entry?.state === 'done') return Promise.resolve({ state: 'done', result: entry.result });
    if (entry?.state === 'reserved') {
      return Promise.reject(new DeferError('another attempt is performing the email effect', 100));
    }
    this.entries.set(taskId, { state: 'reserved' });
    return Promise.resolve({ state: 'reserved' });
  }

  markDone(taskId: string, result: SendEmailResult): Promise<void> {
    this.entries.set(taskId, { state: 'done', result });
    return Promise.resolve();
  }

  extend(taskId: string): Promise<boolean> {
    return Promise.resolve(this.entries.get(taskId)?.state === 'reserved');
  }

  release(taskId: string): Promise<void> {
    if (this.entries.get(taskId)?.state === 'reserved') this.entries.delete(taskId);
    return Promise.resolve();
  }
}

const ACCEPTED_AT = new Date('2026-05-01T09:30:00.000Z');

class FakeMailer implements Mailer {
  readonly sent: OutgoingMail[] = [];
  failWith: Error | undefined;
  /** Set: the breaker is open and assertAvailable throws this. */
  unavailable: DeferError | undefined;

  send(mail: OutgoingMail): Promise<{ messageId: string; acceptedAt: Date }> {
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    this.sent.push(mail);
    return Promise.resolve({ messageId: mail.messageId, acceptedAt: ACCEPTED_AT });
  }

  assertAvailable(): void {
    if (this.unavailable) throw this.unavailable;
  }

  details(): Record<string, unknown> {
    return {};
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Lets every send through, or defers every one when `waitMs` is set. */
class FakeRateLimiter implements SendRateLimiter {
  readonly calls: [string, string][] = [];
  waitMs = 0;

  acquire(address: string, taskId: string): Promise<void> {
    this.calls.push([address, taskId]);
    return this.waitMs > 0
      ? Promise.reject(new DeferError('send rate limit of example.com', this.waitMs))
      : Promise.resolve();
  }
}

/** An SMTP reply error as nodemailer raises it. */
const smtpError = (responseCode: number, message: string): Error =>
  Object.assign(new Error(message), { code: 'EENVELOPE', responseCode });

const payload: EmailSendPayload = {
  email: 'ada@example.com',
  subject: 'Quarterly numbers',
  body: 'See attached.',
};

function setup(
  options: { injectFailure?: (attempt: number) => void; markSentPatienceMs?: number } = {},
) {
  const mailer = new FakeMailer();
  const ledger = new MemoryLedger();
  const rateLimiter = new FakeRateLimiter();
  const injected: number[] = [];
  const handler = createSendEmail({
    mailer,
    ledger: ledger as unknown as EffectLedger<SendEmailResult>,
    injectFailure: (attempt) => {
      injected.push(attempt);
      options.injectFailure?.(attempt);
    },
    messageIdDomain: 'tasks.local',
    rateLimiter,
    ...(options.markSentPatienceMs !== undefined
      ? { markSentPatienceMs: options.markSentPatienceMs }
      : {}),
  });
  const controller = new AbortController();
  const ctx = (attempt = 1, taskId = 'c0ffee-42'): TaskContext =>
    fakeTaskContext({
      taskId,
      type: 'task.email.send',
      attempt,
      signal: controller.signal,
      progress: () => Promise.reject(new Error('email tasks report no progress')),
    });
  return { mailer, ledger, handler, ctx, controller, injected, rateLimiter };
}

describe('createSendEmail', () => {
  it('sends the e-mail once and returns the original’s result shape', async () => {
    const { handler, ctx, mailer } = setup();
    const result = await handler(payload, ctx(1));
    expect(result).toEqual({
      status: 'sent',
      email: 'ada@example.com',
      subject: 'Quarterly numbers',
      sent_at: '2026-05-01T09:30:00.000Z',
      attempt: 1,
      message_id: '<c0ffee-42@tasks.local>',
    });
    expect(mailer.sent).toEqual([
      {
        to: 'ada@example.com',
        subject: 'Quarterly numbers',
        text: 'See attached.',
        messageId: '<c0ffee-42@tasks.local>',
      },
    ]);
  });

  it('gives an ISO 8601 sent_at and the attempt of the context', async () => {
    const { handler, ctx } = setup();
    const result = await handler(payload, ctx(3));
    expect(result.sent_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(result.attempt).toBe(3);
  });

  it('uses <task_id@tasks.local> as the Message-ID', async () => {
    const { handler, ctx, mailer } = setup();
    await handler(payload, ctx(1, '5b1e7c9a-0d2f-4e61-9a3b-7c2d1e0f9a88'));
    expect(mailer.sent[0]?.messageId).toBe('<5b1e7c9a-0d2f-4e61-9a3b-7c2d1e0f9a88@tasks.local>');
  });

  it('marks the effect done with its result', async () => {
    const { handler, ctx, ledger } = setup();
    const result = await handler(payload, ctx());
    expect(ledger.entries.get('c0ffee-42')).toEqual({ state: 'done', result });
  });

  it('returns the stored result of a done reservation and sends nothing', async () => {
    const { handler, ctx, ledger, mailer, injected } = setup();
    const stored: SendEmailResult = {
      status: 'sent',
      email: 'ada@example.com',
      subject: 'Quarterly numbers',
      sent_at: '2026-04-30T08:00:00.000Z',
      attempt: 1,
      message_id: '<c0ffee-42@tasks.local>',
    };
    ledger.entries.set('c0ffee-42', { state: 'done', result: stored });
    await expect(handler(payload, ctx(2))).resolves.toBe(stored);
    expect(mailer.sent).toEqual([]);
    expect(injected).toEqual([]);
  });

  it('sends nothing when the same task is delivered again', async () => {
    const { handler, ctx, mailer } = setup();
    const first = await handler(payload, ctx(1));
    const again = await handler(payload, ctx(1));
    expect(again).toEqual(first);
    expect(mailer.sent).toHaveLength(1);
  });

  it('defers while another attempt holds the reservation, keeping it', async () => {
    const { handler, ctx, ledger, mailer } = setup();
    ledger.entries.set('c0ffee-42', { state: 'reserved' });
    await expect(handler(payload, ctx())).rejects.toMatchObject({ code: 'TASK_DEFER' });
    expect(ledger.entries.get('c0ffee-42')).toEqual({ state: 'reserved' });
    expect(mailer.sent).toEqual([]);
  });

  it('turns an SMTP 550 reply into a PermanentError and releases the reservation', async () => {
    const { handler, ctx, mailer, ledger } = setup();
    const refusal = smtpError(550, '550 5.1.1 mailbox unavailable');
    mailer.failWith = refusal;
    const err = await handler(payload, ctx()).catch((e: unknown) => e);
    expect(errorCode(err)).toBe('TASK_PERMANENT');
    expect((err as Error).name).toBe('PermanentError');
    expect((err as Error).message).toContain('550 5.1.1 mailbox unavailable');
    expect((err as Error).cause).toBe(refusal);
    expect(ledger.entries.has('c0ffee-42')).toBe(false);
  });

  it('leaves an SMTP 421 reply retryable and releases the reservation', async () => {
    const { handler, ctx, mailer, ledger } = setup();
    const busy = smtpError(421, '421 4.7.0 try again later');
    mailer.failWith = busy;
    const err = await handler(payload, ctx()).catch((e: unknown) => e);
    expect(err).toBe(busy);
    const policy = { baseMs: 10_000, factor: 2, jitter: 0, maxDelayMs: 60_000, maxRetries: 3 };
    expect(classify(err, 1, policy).kind).toBe('retry');
    expect(ledger.entries.has('c0ffee-42')).toBe(false);
  });

  it('throws an injected failure before the mailer is called and releases the reservation', async () => {
    const { handler, ctx, mailer, ledger, injected } = setup({
      injectFailure: (attempt) => {
        throw new SimulatedProviderError(attempt);
      },
    });
    await expect(handler(payload, ctx(2))).rejects.toBeInstanceOf(SimulatedProviderError);
    expect(injected).toEqual([2]);
    expect(mailer.sent).toEqual([]);
    expect(ledger.entries.has('c0ffee-42')).toBe(false);
  });

  it('sends on the retry after an injected failure', async () => {
    const { handler, ctx, mailer } = setup({
      injectFailure: (attempt) => {
        if (attempt === 1) throw new SimulatedProviderError(attempt);
      },
    });
    await expect(handler(payload, ctx(1))).rejects.toBeInstanceOf(SimulatedProviderError);
    await expect(handler(payload, ctx(2))).resolves.toMatchObject({ status: 'sent', attempt: 2 });
    expect(mailer.sent).toHaveLength(1);
  });

  it('sends nothing once the signal aborted, and releases the reservation', async () => {
    const { handler, ctx, controller, mailer, ledger } = setup();
    controller.abort(new RevokedError('c0ffee-42'));
    await expect(handler(payload, ctx())).rejects.toMatchObject({ code: 'TASK_REVOKED' });
    expect(mailer.sent).toEqual([]);
    expect(ledger.entries.has('c0ffee-42')).toBe(false);
  });
  it('sends the html part along with the text', async () => {
    const { handler, ctx, mailer } = setup();
    await handler({ ...payload, html: '<p>See attached.</p>' }, ctx());
    expect(mailer.sent[0]).toMatchObject({ text: 'See attached.', html: '<p>See attached.</p>' });
  });

  it('renders a template and reports its subject and name', async () => {
    const { handler, ctx, mailer } = setup();
    const result = await handler(
      { email: 'ada@example.com', template: 'welcome', variables: { name: 'Ada <3' } },
      ctx(),
    );
    expect(mailer.sent[0]).toMatchObject({
      subject: 'Welcome, Ada <3',
      text: expect.stringContaining('Hello Ada <3,') as unknown,
      html: expect.stringContaining('Hello Ada &lt;3,') as unknown,
    });
    expect(result).toMatchObject({ subject: 'Welcome, Ada <3', template: 'welcome' });
  });

  it('defers without sending while the breaker is open, and releases the reservation', async () => {
    const { handler, ctx, mailer, ledger, rateLimiter, injected } = setup();
    mailer.unavailable = new DeferError('SMTP circuit breaker is open', 4_000);
    const err = await handler(payload, ctx()).catch((e: unknown) => e);
    expect(errorCode(err)).toBe('TASK_DEFER');
    expect((err as DeferError).delayMs).toBe(4_000);
    expect(mailer.sent).toEqual([]);
    expect(rateLimiter.calls).toEqual([]); // no rate slot spent on a send that cannot happen
    expect(injected).toEqual([]);
    expect(ledger.entries.has('c0ffee-42')).toBe(false);
  });

  it('takes a rate-limit slot for the recipient and task before sending', async () => {
    const { handler, ctx, rateLimiter, mailer } = setup();
    await handler(payload, ctx());
    expect(rateLimiter.calls).toEqual([['ada@example.com', 'c0ffee-42']]);
    expect(mailer.sent).toHaveLength(1);
  });

  it('defers over the rate limit without sending or injecting, and releases the reservation', async () => {
    const { handler, ctx, rateLimiter, mailer, ledger, injected } = setup();
    rateLimiter.waitMs = 180;
    const err = await handler(payload, ctx()).catch((e: unknown) => e);
    expect(errorCode(err)).toBe('TASK_DEFER');
    expect((err as DeferError).delayMs).toBe(180);
    expect(mailer.sent).toEqual([]);
    expect(injected).toEqual([]);
    expect(ledger.entries.has('c0ffee-42')).toBe(false);
  });

  it('retries marking an accepted send done, and records it once the store takes it', async () => {
    const { handler, ctx, ledger, mailer } = setup();
    const markDone = ledger.markDone.bind(ledger);
    let refusals = 2;
    ledger.markDone = (taskId, result) =>
      refusals-- > 0 ? Promise.reject(new Error('redis down')) : markDone(taskId, result);
    const result = await handler(payload, ctx());
    expect(mailer.sent).toHaveLength(1);
    expect(ledger.entries.get('c0ffee-42')).toEqual({ state: 'done', result });
  });

  it('fails for good, keeping the reservation, when an accepted send cannot be marked done', async () => {
    const { handler, ctx, ledger, mailer } = setup({ markSentPatienceMs: 300 });
    ledger.markDone = () => Promise.reject(new Error('redis down'));
    const err = await handler(payload, ctx()).catch((e: unknown) => e);
    expect(errorCode(err)).toBe('TASK_PERMANENT');
    expect((err as Error).message).toMatch(
      /accepted the message .* it is not sent again: redis down/,
    );
    expect(mailer.sent).toHaveLength(1);
    expect(ledger.entries.get('c0ffee-42')).toEqual({ state: 'reserved' });
  });

  it('turns a 5xx at RCPT into a PermanentError naming the server text', async () => {
    const { handler, ctx, mailer } = setup();
    mailer.failWith = Object.assign(new Error('Recipient command failed: 553 5.1.3 bad address'), {
      code: 'EENVELOPE',
      responseCode: 553,
    });
    const err = await handler(payload, ctx()).catch((e: unknown) => e);
    expect(errorCode(err)).toBe('TASK_PERMANENT');
    expect((err as Error).message).toBe(
      'SMTP server refused the message: Recipient command failed: 553 5.1.3 bad address',
    );
  });

  it('leaves a refused connection retryable', async () => {
    const { handler, ctx, mailer } = setup();
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:25'), {
      code: 'ESOCKET',
      errno: -111,
    });
    mailer.failWith = refused;
    await expect(handler(payload, ctx())).rejects.toBe(refused);
  });
});

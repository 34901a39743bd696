/**
 * An e-mail the SMTP server accepted is never sent again because Redis refused to record it as
 * sent. The handler keeps retrying the record while it holds (and extends) its reservation; a
 * later attempt then finds it done and sends nothing. If Redis refuses for longer than the
 * handler's patience, the task fails for good instead of being retried into a second send.
 *
 * A private Redis whose writes are refused for a while (`maxmemory` below what it uses: OOM, a
 * real Redis error, set on that server only); the effect ledger is the real one. The mailer is a
 * fake that counts what the server "accepted".
 */
import type { EmailSendPayload } from '@tasks/contracts';
import { classify, EffectLedger, errorCode, RedisKeys, type TaskContext } from '@tasks/runtime';
import { fakeTaskContext, PrivateRedis, waitFor } from '@tasks/runtime/testing';
import Redis from 'ioredis';
import type { Mailer, OutgoingMail } from '../src/mailer';
import { createSendEmail, type SendEmailDeps, type SendEmailResult } from '../src/send-email';

const RESERVATION_TTL_S = 1;
const PREFIX = 'mark-sent:';
const RETRY_POLICY = { baseMs: 100, factor: 2, jitter: 0, maxDelayMs: 1000, maxRetries: 3 };

/** Accepts every message; `onAccepted` runs once the server has it. */
class CountingMailer implements Mailer {
  readonly sent: OutgoingMail[] = [];
  onAccepted: () => Promise<void> = () => Promise.resolve();

  async send(mail: OutgoingMail): Promise<{ messageId: string; acceptedAt: Date }> {
    this.sent.push(mail);
    await this.onAccepted();
    return { messageId: mail.messageId, acceptedAt: new Date() };
  }

  assertAvailable(): void {}

  details(): Record<string, unknown> {
    return {};
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const payload: EmailSendPayload = { email: 'ada@example.com', subject: 'Hi', body: 'Hello.' };

describe('send-email when recording "sent" fails', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let mailer: CountingMailer;
  let timer: NodeJS.Timeout | undefined;

  beforeEach(async () => {
    server = await PrivateRedis.start();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    mailer = new CountingMailer();
  }, 30_000);

  afterEach(async () => {
    clearTimeout(timer);
    await redis.quit().catch(() => undefined);
    await server.stop();
  });

  /** Makes the server refuse writes (OOM) from now on. */
  const refuseWrites = async (): Promise<void> => {
    await redis.config('SET', 'maxmemory', '1');
  };
  const acceptWrites = async (): Promise<void> => {
    await redis.config('SET', 'maxmemory', '0');
  };

  const handlerWith = (extra: Partial<SendEmailDeps> = {}) =>
    createSendEmail({
      mailer,
      ledger: new EffectLedger<SendEmailResult>(redis, new RedisKeys(PREFIX), {
        kind: 'email',
        reservationTtlS: RESERVATION_TTL_S,
        doneTtlS: 600,
      }),
      injectFailure: () => undefined,
      messageIdDomain: 'tasks.local',
      ...extra,
    });

  const ctx = (attempt: number): TaskContext =>
    fakeTaskContext({
      taskId: 'mail-1',
      type: 'task.email.send',
      attempt,
      progress: () => Promise.reject(new Error('no progress')),
    });

  it('does not send again after Redis refused to record the first send for a while', async () => {
    const handler = handlerWith();
    mailer.onAccepted = async () => {
      mailer.onAccepted = () => Promise.resolve(); // the first send only
      await refuseWrites();
      // Longer than the reservation lasts on its own.
      timer = setTimeout(() => void acceptWrites(), 3 * RESERVATION_TTL_S * 1000);
    };

    // The first attempt, and then the runtime's retries until one of them settles without error.
    let outcome: unknown;
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      try {
        outcome = await handler(payload, ctx(attempt));
        break;
      } catch (err) {
        outcome = err;
        expect(classify(err, attempt, RETRY_POLICY).kind).toBe('retry');
        // Retried once Redis takes writes again, after the reservation would have lapsed.
        await waitFor(
          async () => (await redis.set(`${PREFIX}probe`, '1').catch(() => null)) === 'OK',
          { timeoutMs: 20_000, message: 'Redis takes writes again' },
        );
        await new Promise((resolve) => setTimeout(resolve, (RESERVATION_TTL_S + 0.5) * 1000));
      }
    }
    expect(mailer.sent).toHaveLength(1);
    expect(outcome).toMatchObject({ status: 'sent', message_id: '<mail-1@tasks.local>' });
  }, 60_000);

  it('fails the task for good, rather than retrying into a second send, when Redis keeps refusing', async () => {
    const handler = handlerWith({ markSentPatienceMs: 1500 });
    mailer.onAccepted = refuseWrites;

    const err = await handler(payload, ctx(1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(errorCode(err)).toBe('TASK_PERMANENT');
    expect(classify(err, 1, RETRY_POLICY).kind).toBe('fail');
    expect(mailer.sent).toHaveLength(1);
  }, 60_000);
});

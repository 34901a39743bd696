/**
 * The circuit breaker around the SMTP transport (breaker-mailer.ts), with a fake transport and
 * jest's fake clock: N outages in the window open it; while open nothing reaches the transport
 * and sends defer (DeferError, until about the half-open time); after the reset time one probe
 * goes through and closes it, or opens it again. 5xx refusals and per-message 4xx never count.
 */
import { errorCode } from '@tasks/runtime';
import { BreakerMailer } from '../src/breaker-mailer';
import type { Mailer, OutgoingMail, SentMail } from '../src/mailer';
import { errorCodeOf } from './support';

type Outcome = 'ok' | 'refused' | 'reset' | 'timeout' | 421 | 451 | 550;

/** A transport whose next sends fail as scripted; counts every call (a connection attempt). */
class FakeTransport implements Mailer {
  calls = 0;
  next: Outcome = 'ok';
  closed = false;
  /** Resolves the pending probe when set. */
  hold: ((outcome: Outcome) => void) | undefined;

  async send(mail: OutgoingMail): Promise<SentMail> {
    this.calls += 1;
    const outcome = this.hold
      ? await new Promise<Outcome>((resolve) => (this.hold = resolve))
      : this.next;
    switch (outcome) {
      case 'ok':
        return { messageId: mail.messageId, acceptedAt: new Date() };
      case 'refused':
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET', errno: -111 });
      case 'reset':
        throw Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION' });
      case 'timeout':
        throw Object.assign(new Error('Greeting never received'), { code: 'ETIMEDOUT' });
      default:
        throw Object.assign(new Error(`Message failed: ${outcome} reply`), {
          code: 'EMESSAGE',
          responseCode: outcome,
        });
    }
  }

  assertAvailable(): void {}

  details(): Record<string, unknown> {
    return { transport: 'fake' };
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

const mail: OutgoingMail = {
  to: 'ada@example.com',
  subject: 's',
  text: 'b',
  messageId: '<t@tasks.local>',
};

describe('BreakerMailer', () => {
  let transport: FakeTransport;
  let breaker: BreakerMailer;

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-05-01T10:00:00Z') });
    transport = new FakeTransport();
    breaker = new BreakerMailer(transport, {
      threshold: 3,
      windowMs: 1_000,
      resetMs: 5_000,
      random: () => 0,
    });
  });

  afterEach(async () => {
    await breaker.close();
    jest.useRealTimers();
  });

  const fail = async (outcome: Outcome, times = 1): Promise<void> => {
    transport.next = outcome;
    for (let i = 0; i < times; i += 1) await breaker.send(mail).catch(() => undefined);
  };

  it('passes sends through while closed', async () => {
    await expect(breaker.send(mail)).resolves.toMatchObject({ messageId: '<t@tasks.local>' });
    expect(transport.calls).toBe(1);
    expect(breaker.state).toBe('closed');
    expect(breaker.details()).toMatchObject({ transport: 'fake', breaker: 'closed' });
  });

  it('throws the transport error as it is while closed', async () => {
    transport.next = 'refused';
    await expect(breaker.send(mail)).rejects.toMatchObject({ code: 'ESOCKET' });
  });

  it('opens after the threshold of outages within the window', async () => {
    await fail('refused', 2);
    expect(breaker.state).toBe('closed');
    await fail('timeout');
    expect(breaker.state).toBe('open');
    expect(breaker.details()).toMatchObject({
      breaker: 'open',
      breaker_outages: 3,
      breaker_opened_at: '2026-05-01T10:00:00.000Z',
    });
  });

  it('counts refused, reset and timed-out connections and 421 replies alike', async () => {
    await fail('reset');
    await fail(421);
    expect(breaker.state).toBe('closed');
    await fail('timeout');
    expect(breaker.state).toBe('open');
  });

  it('forgets outages older than the window', async () => {
    await fail('refused', 2);
    jest.advanceTimersByTime(1_001);
    await fail('refused', 2);
    expect(breaker.state).toBe('closed');
    await fail('refused');
    expect(breaker.state).toBe('open');
  });

  it('does not count 5xx refusals or per-message 4xx replies', async () => {
    await fail(550, 5);
    await fail(451, 5);
    expect(breaker.state).toBe('closed');
    expect(breaker.details()).toMatchObject({ breaker_outages: 0 });
  });

  it('defers without touching the transport while open', async () => {
    await fail('refused', 3);
    const before = transport.calls;
    const err = await breaker.send(mail).catch((e: unknown) => e);
    expect(errorCode(err)).toBe('TASK_DEFER');
    expect((err as { delayMs: number }).delayMs).toBe(5_000);
    expect(errorCodeOf(() => breaker.assertAvailable())).toBe('TASK_DEFER');
    expect(transport.calls).toBe(before);
  });

  it('defers until about the half-open time, spread by up to a fifth of the reset time', async () => {
    const spread = new BreakerMailer(transport, {
      threshold: 1,
      windowMs: 1_000,
      resetMs: 5_000,
      random: () => 0.5,
    });
    transport.next = 'refused';
    await spread.send(mail).catch(() => undefined);
    jest.advanceTimersByTime(2_000);
    const err = await spread.send(mail).catch((e: unknown) => e);
    expect((err as { delayMs: number }).delayMs).toBe(3_000 + 500);
    await spread.close();
  });

  it('half-opens after the reset time and closes on a successful probe', async () => {
    await fail('refused', 3);
    jest.advanceTimersByTime(5_000);
    expect(breaker.state).toBe('half-open');
    expect(() => breaker.assertAvailable()).not.toThrow();
    transport.next = 'ok';
    await expect(breaker.send(mail)).resolves.toMatchObject({ messageId: '<t@tasks.local>' });
    expect(breaker.state).toBe('closed');
    expect(breaker.details()).toMatchObject({ breaker_outages: 0, breaker_opened_at: null });
  });

  it('lets one probe through at a time and defers the others briefly', async () => {
    await fail('refused', 3);
    jest.advanceTimersByTime(5_000);
    const calls = transport.calls;
    transport.hold = () => undefined;
    const probe = breaker.send(mail);
    await Promise.resolve();
    const other = await breaker.send(mail).catch((e: unknown) => e);
    expect(errorCode(other)).toBe('TASK_DEFER');
    expect((other as { delayMs: number }).delayMs).toBe(1_000);
    expect(errorCodeOf(() => breaker.assertAvailable())).toBe('TASK_DEFER');
    expect(transport.calls).toBe(calls + 1);
    transport.hold('ok');
    await probe;
    expect(breaker.state).toBe('closed');
  });

  it('opens again when the probe meets another outage', async () => {
    await fail('refused', 3);
    jest.advanceTimersByTime(5_000);
    await fail('refused');
    expect(breaker.state).toBe('open');
    expect(transport.calls).toBe(4);
    jest.advanceTimersByTime(4_999);
    expect(breaker.state).toBe('open');
    jest.advanceTimersByTime(1);
    expect(breaker.state).toBe('half-open');
  });

  it('closes on a probe the server refused with a 5xx (it is up)', async () => {
    await fail('refused', 3);
    jest.advanceTimersByTime(5_000);
    await fail(550);
    expect(breaker.state).toBe('closed');
  });

  it('closes its transport once', async () => {
    await breaker.close();
    await breaker.close();
    expect(transport.closed).toBe(true);
  });
});

/**
 * Delays in real seconds: the binary delay levels hold each message for its own
 * time, so a 10 s countdown is not blocked behind a 60 s one sent before it (one queue with
 * per-message TTLs would hold it until the 60 s one expired). The 60 s task waits as PENDING with
 * its eta, is listed as scheduled, and is cancelled without waiting for it.
 *
 * Shared broker and Redis, own namespace (delay unit 20 ms, 12 levels: up to 81 s).
 */
import { EMAIL_SEND } from '@tasks/contracts';
import { report } from '../support/fault-checks';
import { TestPlatform } from '../support/test-platform';

describe('countdowns in real seconds', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await TestPlatform.start({ services: ['status-store', 'gateway', 'email-worker'] });
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  }, 60_000);

  it('runs a 10 s countdown at ~10 s while a 60 s one sent first still waits as scheduled', async () => {
    const email = (subject: string, countdown: number) => ({
      email: 'later@example.test',
      subject,
      body: 'delayed',
      countdown,
    });
    const longSentAt = Date.now();
    const long = await platform.submit('email', email('in 60 s', 60));
    const shortSentAt = Date.now();
    const short = await platform.submit('email', email('in 10 s', 10));

    const waiting = await platform.task(short);
    expect(waiting).toMatchObject({ status: 'PENDING', task_type: EMAIL_SEND });
    const done = await platform.waitForTask(short, 'SUCCESS', 16_000);
    const shortTookMs = Date.now() - shortSentAt;
    expect(shortTookMs).toBeGreaterThanOrEqual(9_500);
    expect(shortTookMs).toBeLessThanOrEqual(14_000);
    // Not run before its time either (the worker's own clock).
    expect(Date.parse(String(done.started_at))).toBeGreaterThanOrEqual(
      Date.parse(String(waiting.eta)) - 50,
    );

    const pending = await platform.task(long);
    expect(pending).toMatchObject({ status: 'PENDING', started_at: null });
    const eta = Date.parse(String(pending.eta));
    expect(eta - longSentAt).toBeGreaterThanOrEqual(59_000);
    expect(eta - longSentAt).toBeLessThanOrEqual(61_000);

    const { status, body } = await platform.request('GET', '/tasks/active/list');
    expect(status).toBe(200);
    const scheduled = (body as { scheduled: Record<string, { task_id: string; eta: string }[]> })
      .scheduled['email-worker'];
    expect(scheduled).toEqual([
      expect.objectContaining({ task_id: long, eta: new Date(eta).toISOString() }),
    ]);

    const cancel = await platform.request('DELETE', `/tasks/${long}`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ previous_status: 'PENDING' });
    expect((await platform.task(long)).status).toBe('REVOKED');
    report('countdown 10 s behind 60 s', { short_countdown_took_ms: shortTookMs });
  }, 40_000);
});

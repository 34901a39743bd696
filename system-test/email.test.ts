/**
 * The email worker as a client and an SMTP server see it: real processes (status-store, gateway,
 * email-worker) in a fresh namespace, delivering to an in-process SMTP server (smtp-sink.ts).
 *
 * Headers and Message-ID = task id; templates (and their 422s at the gateway); idempotency on the
 * task id; a 421 retried, a 550 failed at once with the server's text; the circuit breaker opening
 * on a down server without trying it while open; delivery across worker SIGKILLs and simulated
 * failures; the per-domain rate limit.
 *
 * Shared broker and Redis, own namespace; small retry settings (RETRY_BASE_MS 200, no jitter).
 */
import { randomUUID } from 'node:crypto';
import { EMAIL_SEND } from '@tasks/contracts';
import { SmtpSink, waitFor } from '@tasks/runtime/testing';
import { report, stateCount } from './support/fault-checks';
import type { ServiceProcess } from './support/service-process';
import { type TaskBody, TestPlatform } from './support/test-platform';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const messageIdOf = (taskId: string): string => `<${taskId}@tasks.local>`;

interface EmailWorkerDetails {
  readonly pid: number;
  readonly last_heartbeat: string;
  readonly details?: {
    readonly transport?: string;
    readonly breaker?: string;
    readonly breaker_opened_at?: string | null;
    readonly breaker_outages?: number;
  };
}

describe('email worker', () => {
  let sink: SmtpSink;
  let platform: TestPlatform;
  const started: ServiceProcess[] = [];

  beforeAll(async () => {
    sink = await SmtpSink.start();
    platform = await TestPlatform.start({
      services: ['status-store', 'gateway'],
      // The e-mail reservation lives 3 × SMTP_TIMEOUT_MS = 3 s.
      // The per-domain rate limit (on by default) is off here but where a test sets it: these
      // tests send hundreds of e-mails to example.com and time their faults on delivery counts.
      env: {
        SMTP_URL: sink.url,
        SMTP_TIMEOUT_MS: '1000',
        RETRY_BASE_MS: '200',
        RETRY_JITTER: '0',
        EMAIL_RATE_PER_SECOND: '0',
      },
      events: true,
    });
  }, 60_000);

  afterAll(async () => {
    try {
      await platform?.stop();
    } finally {
      await sink?.close();
    }
  }, 60_000);

  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop('SIGTERM')));
    sink.accept();
    sink.holdReplies(0);
    await sink.up();
  }, 60_000);

  const startWorker = async (env: Record<string, string> = {}): Promise<ServiceProcess> => {
    const worker = await platform.startService('email-worker', env);
    started.push(worker);
    return worker;
  };

  const tasks = (ids: readonly string[]): Promise<TaskBody[]> =>
    Promise.all(ids.map((id) => platform.task(id)));

  /** Waits until every task is terminal; returns them. */
  const settled = (ids: readonly string[], timeoutMs: number): Promise<TaskBody[]> =>
    waitFor(
      async () => {
        const all = await tasks(ids);
        return all.every((t) => ['SUCCESS', 'FAILURE', 'REVOKED'].includes(t.status))
          ? all
          : undefined;
      },
      { timeoutMs, intervalMs: 100, message: `${ids.length} e-mails terminal` },
    );

  /** How many times the sink accepted each task's Message-ID. */
  const deliveries = (ids: readonly string[]): number[] => {
    const counts = sink.counts();
    return ids.map((id) => counts.get(messageIdOf(id)) ?? 0);
  };

  const details = async (worker: ServiceProcess): Promise<EmailWorkerDetails | undefined> => {
    const { body } = await platform.request('GET', '/health');
    return Object.values(
      (body as { worker_details: Record<string, EmailWorkerDetails> }).worker_details,
    ).find((d) => d.pid === worker.pid);
  };

  const submitMany = (n: number, make: (i: number) => Record<string, unknown>): Promise<string[]> =>
    Promise.all(range(n).map((i) => platform.submit('email', make(i))));

  describe('delivery', () => {
    it('delivers with the right headers, Message-ID <task_id@tasks.local> and the original’s result', async () => {
      await startWorker();
      const id = await platform.submit('email', {
        email: 'ada@example.com',
        subject: 'Quarterly numbers',
        body: 'See attached.',
        html: '<p>See <b>attached</b>.</p>',
      });
      const task = await platform.waitForTask(id, 'SUCCESS');
      expect(task.result).toEqual({
        status: 'sent',
        email: 'ada@example.com',
        subject: 'Quarterly numbers',
        sent_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/) as unknown,
        attempt: 1,
        message_id: messageIdOf(id),
      });
      const mail = sink.accepted.find((m) => m.messageId === messageIdOf(id));
      expect(mail).toMatchObject({ to: ['ada@example.com'], subject: 'Quarterly numbers' });
      expect(mail?.raw).toMatch(/^From: Task Platform <tasks@localhost>$/m);
      expect(mail?.raw).toMatch(/^To: ada@example.com$/m);
      expect(mail?.raw).toMatch(/Content-Type: multipart\/alternative/);
      expect(mail?.raw).toContain('<p>See <b>attached</b>.</p>');
      expect(deliveries([id])).toEqual([1]);
    }, 30_000);

    it('renders a template with escaped variables in html and a one-line subject', async () => {
      await startWorker();
      const id = await platform.submit('email', {
        email: 'ada@example.com',
        template: 'welcome',
        variables: { name: 'Ada <Lovelace>' },
      });
      const task = await platform.waitForTask(id, 'SUCCESS');
      expect(task.result).toMatchObject({
        subject: 'Welcome, Ada <Lovelace>',
        template: 'welcome',
      });
      const mail = sink.accepted.find((m) => m.messageId === messageIdOf(id));
      expect(mail?.subject).toBe('Welcome, Ada <Lovelace>');
      expect(mail?.raw).toContain('Hello Ada <Lovelace>,'); // text part, as given
      expect(mail?.raw).toContain('<p>Hello Ada &lt;Lovelace&gt;,</p>'); // html part, escaped
    }, 30_000);

    it('sends two equal e-mails with different task ids twice, and a repeated command once', async () => {
      await startWorker();
      const body = { email: 'twins@example.com', subject: 'Same', body: 'Same body' };
      const [a, b] = [await platform.submit('email', body), await platform.submit('email', body)];
      const [ta] = await Promise.all([a, b].map((id) => platform.waitForTask(id, 'SUCCESS')));
      expect(deliveries([a, b])).toEqual([1, 1]);

      // The same command again, as a redelivery or a retry after a lost ack would bring it.
      const command = {
        v: 1,
        task_id: a,
        type: EMAIL_SEND,
        payload: body,
        priority: 0,
        created_at: new Date().toISOString(),
      };
      platform.ns.amqp.publish(
        platform.ns.names.tasksExchange,
        EMAIL_SEND,
        Buffer.from(JSON.stringify(command)),
        {
          persistent: true,
          messageId: a,
          contentType: 'application/json',
          headers: { 'x-attempt': 2 },
        },
      );
      await platform.ns.amqp.waitForConfirms();
      const again = await waitFor(
        () => platform.events.of(a, 'SUCCESS').find((e) => e.attempt === 2),
        {
          timeoutMs: 10_000,
          message: 'the repeated command ends SUCCESS',
        },
      );
      // The stored result: same message_id and sent_at, and nothing sent.
      expect(again.result).toEqual(ta?.result);
      expect(deliveries([a, b])).toEqual([1, 1]);
      expect((await platform.task(a)).result).toEqual(ta?.result);
    }, 30_000);
  });

  describe('validation at the gateway', () => {
    const detail = async (body: unknown) => {
      const response = await platform.request('POST', '/tasks/email', body);
      expect(response.status).toBe(422);
      return (response.body as { detail: { loc: unknown[]; type: string }[] }).detail;
    };

    it('answers 422 naming a missing template variable', async () => {
      expect(await detail({ email: 'a@example.com', template: 'welcome' })).toEqual([
        expect.objectContaining({ loc: ['body', 'variables', 'name'], type: 'missing' }),
      ]);
    });

    it('answers 422 naming an unknown template', async () => {
      expect(await detail({ email: 'a@example.com', template: 'nope' })).toEqual([
        expect.objectContaining({ loc: ['body', 'template'] }),
      ]);
    });

    it('answers 422 for subject and body missing without a template', async () => {
      const issues = await detail({ email: 'a@example.com' });
      expect(issues.map((i) => i.loc)).toEqual([
        ['body', 'subject'],
        ['body', 'body'],
      ]);
    });

    it('answers 422 for a line break in a variable used in the subject', async () => {
      expect(
        await detail({
          email: 'a@example.com',
          template: 'welcome',
          variables: { name: 'Ada\r\nBcc: victim@example.com' },
        }),
      ).toEqual([expect.objectContaining({ loc: ['body', 'variables', 'name'] })]);
    });
  });

  describe('SMTP replies', () => {
    it('retries a 421 and succeeds on the next 250: RETRY then SUCCESS', async () => {
      await startWorker();
      sink.reply(421, 'Too busy, try later');
      const id = await platform.submit('email', {
        email: 'busy@example.com',
        subject: 'Busy',
        body: 'x',
      });
      const retrying = await platform.waitForTask(id, 'RETRY');
      expect(retrying.error).toContain('421 Too busy, try later');
      sink.accept();
      const done = await platform.waitForTask(id, 'SUCCESS');
      expect(done.result?.attempt).toBeGreaterThanOrEqual(2);
      expect(deliveries([id])).toEqual([1]);
      const states = platform.events.of(id).map((e) => e.state);
      expect(states.indexOf('RETRY')).toBeLessThan(states.lastIndexOf('SUCCESS'));
    }, 30_000);

    it('fails a 550 after one attempt with the server’s text', async () => {
      await startWorker();
      sink.reply(550, 'No such user here');
      const refusedBefore = sink.refused;
      const id = await platform.submit('email', {
        email: 'nobody@example.com',
        subject: 'Hello',
        body: 'x',
      });
      const task = await platform.waitForTask(id, 'FAILURE');
      expect(task.error).toContain('550 No such user here');
      expect(task.result).toBeNull();
      expect(task.attempt).toBe(1);
      expect(sink.refused - refusedBefore).toBe(1);
      expect(platform.events.of(id, 'RETRY')).toEqual([]);
    }, 30_000);
  });

  it('opens the breaker on a down server, tries no connection while open, and sends every e-mail once it is back', async () => {
    const RESET_MS = 3_000;
    const testStart = Date.now();
    await sink.down('reset');
    const worker = await startWorker({
      // Sends already past the breaker when it opens still connect: keep them few (the shipped
      // default is 16), so the check below sees only what the open breaker let through.
      CONCURRENCY: '4',
      EMAIL_BREAKER_THRESHOLD: '3',
      EMAIL_BREAKER_WINDOW_MS: '10000',
      EMAIL_BREAKER_RESET_MS: String(RESET_MS),
      MAX_RETRIES: '5',
    });
    const ids = await submitMany(20, (i) => ({
      email: `outage${i}@example.com`,
      subject: `outage ${i}`,
      body: 'server down',
    }));

    const open = await waitFor(
      async () => {
        const d = await details(worker);
        return d?.details?.breaker === 'open' ? d.details : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, message: 'health shows the breaker open' },
    );
    const openedAt = Date.parse(open.breaker_opened_at ?? '');
    expect(Number.isFinite(openedAt)).toBe(true);
    const attemptsBeforeOpen = sink.connections.filter(
      (t) => t >= testStart && t <= openedAt,
    ).length;
    expect(attemptsBeforeOpen).toBeGreaterThanOrEqual(3);
    // Tasks keep coming and are deferred while it is open.
    const deferrals = () =>
      worker.lines.filter((l) => l.msg === 'task deferred without counting an attempt').length;
    await waitFor(() => deferrals() >= 15, {
      timeoutMs: RESET_MS - 500,
      intervalMs: 20,
      message: '15 deferrals while the breaker is open',
    });
    await sink.up();

    await waitFor(async () => (await details(worker))?.details?.breaker === 'closed', {
      timeoutMs: 15_000,
      intervalMs: 100,
      message: 'health shows the breaker closed again',
    });
    const final = await settled(ids, 30_000);
    expect(final.filter((t) => t.status !== 'SUCCESS')).toEqual([]);
    expect(deliveries(ids).filter((n) => n !== 1)).toEqual([]);

    // No connection reached the port between the opening and the half-open probe.
    const firstAfterOpen = Math.min(...sink.connections.filter((t) => t > openedAt + 50));
    expect(firstAfterOpen).toBeGreaterThanOrEqual(openedAt + RESET_MS - 50);
    // Deferrals counted no attempt: no task used more than its failures before the opening.
    const attempts = final.map((t) => Number(t.result?.attempt));
    expect(Math.max(...attempts)).toBeLessThanOrEqual(3);
    report('e-mail breaker', {
      attempts_before_open: attemptsBeforeOpen,
      deferrals: deferrals(),
      open_to_first_connection_ms: firstAfterOpen - openedAt,
      attempts_histogram: attempts.reduce<Record<number, number>>((h, a) => {
        h[a] = (h[a] ?? 0) + 1;
        return h;
      }, {}),
    });
  }, 60_000);

  it('delivers 200 e-mails with 200 distinct Message-IDs and at most two duplicates across two SIGKILLs', async () => {
    const since = Date.now();
    const successBefore = await stateCount(platform.ns, EMAIL_SEND, 'SUCCESS', since);
    // One send at a time, each answered after 15 ms: each kill lands while a send is under way.
    sink.holdReplies(15);
    const env = { CONCURRENCY: '1' };
    let worker = await startWorker(env);
    const ids = await submitMany(200, (i) => ({
      email: `kill${i}@example.com`,
      subject: `kill ${i}`,
      body: 'worker killed twice',
    }));
    const delivered = (): number => deliveries(ids).reduce((a, b) => a + b, 0);

    for (const threshold of [60, 130]) {
      await waitFor(() => delivered() >= threshold && sink.holding === 1, {
        timeoutMs: 30_000,
        intervalMs: 2,
        message: `${threshold} e-mails delivered and one under way`,
      });
      await worker.stop('SIGKILL');
      worker = await startWorker(env);
    }

    const final = await settled(ids, 60_000);
    expect(final.filter((t) => t.status !== 'SUCCESS')).toEqual([]);
    const counts = deliveries(ids);
    expect(counts.filter((n) => n === 0)).toEqual([]); // 200 distinct Message-IDs, none lost
    const total = counts.reduce((a, b) => a + b, 0);
    expect(total - ids.length).toBeLessThanOrEqual(2);
    const phantom = sink.accepted.filter(
      (m) => m.subject.startsWith('kill ') && !ids.some((id) => messageIdOf(id) === m.messageId),
    );
    expect(phantom).toEqual([]);
    const successes = (await stateCount(platform.ns, EMAIL_SEND, 'SUCCESS', since)) - successBefore;
    expect(successes).toBe(200);
    report('e-mail, two SIGKILLs', {
      accepted: ids.length,
      distinct_delivered: counts.filter((n) => n > 0).length,
      deliveries: total,
      duplicates: total - ids.length,
    });
  }, 120_000);

  it('delivers 200 e-mails exactly once each at EMAIL_FAILURE_RATE=0.3, the breaker staying closed', async () => {
    const worker = await startWorker({
      CONCURRENCY: '8',
      EMAIL_FAILURE_RATE: '0.3',
      // 0.3^11: no e-mail runs out of retries; waits capped so the run stays short.
      MAX_RETRIES: '10',
      RETRY_MAX_DELAY_MS: '800',
      // Only simulated failures here: a loaded machine must not turn a slow reply of the
      // in-process SMTP sink into a real outage (the suite's 1 s timeout is for crash tests).
      SMTP_TIMEOUT_MS: '10000',
    });
    const ids = await submitMany(200, (i) => ({
      email: `flaky${i}@example.com`,
      subject: `flaky ${i}`,
      body: 'simulated provider errors',
    }));
    const final = await settled(ids, 60_000);
    expect(final.filter((t) => t.status !== 'SUCCESS')).toEqual([]);
    expect(deliveries(ids).filter((n) => n !== 1)).toEqual([]);
    expect(sink.accepted.filter((m) => m.subject.startsWith('flaky ')).length).toBe(200);
    const retried = final.filter((t) => Number(t.result?.attempt) > 1).length;
    expect(retried).toBeGreaterThan(20); // about 30 % fail their first attempt
    // Simulated failures never reach the transport: the breaker counted none of them.
    expect(worker.lines.filter((l) => l.msg === 'smtp circuit breaker opened')).toEqual([]);
    const health = await waitFor(
      async () => {
        const d = await details(worker);
        return d && Date.parse(d.last_heartbeat) > Date.now() - 400 ? d.details : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 50, message: 'a fresh heartbeat' },
    );
    expect(health).toMatchObject({ breaker: 'closed', breaker_outages: 0 });
    report('e-mail, failure rate 0.3', { accepted: ids.length, delivered: 200, retried });
  }, 90_000);

  it('holds 5 sends per second to one domain within 10 % over 10 s, and delivers every e-mail', async () => {
    const RATE = 5;
    const domain = `rate-${randomUUID().slice(0, 8)}.example`;
    // Burst 1: every send paced (the default burst of 10 would front-load the window).
    await startWorker({
      CONCURRENCY: '8',
      EMAIL_RATE_PER_SECOND: String(RATE),
      EMAIL_RATE_BURST: '1',
    });
    const ids = await submitMany(80, (i) => ({
      email: `r${i}@${domain}`,
      subject: `rate ${i}`,
      body: 'paced',
    }));
    const sends = (): number[] =>
      sink.accepted.filter((m) => m.to[0]?.endsWith(`@${domain}`)).map((m) => m.at);

    await waitFor(() => sends().length > 0 && Date.now() - sends()[0]! >= 10_000, {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: '10 s of sends to the domain',
    });
    const t0 = sends()[0]!;
    const inWindow = sends().filter((t) => t < t0 + 10_000).length;
    expect(inWindow).toBeGreaterThanOrEqual(RATE * 10 * 0.9);
    expect(inWindow).toBeLessThanOrEqual(RATE * 10 * 1.1);

    const final = await settled(ids, 20_000);
    expect(final.filter((t) => t.status !== 'SUCCESS')).toEqual([]);
    expect(deliveries(ids).filter((n) => n !== 1)).toEqual([]);
    // Waiting for a slot counted no attempt.
    expect(final.filter((t) => t.result?.attempt !== 1)).toEqual([]);
    const times = sends().sort((a, b) => a - b);
    const maxPerSecond = Math.max(
      ...times.map((t) => times.filter((u) => u >= t && u < t + 1_000).length),
    );
    report('e-mail rate limit', {
      rate_per_second: RATE,
      submitted: ids.length,
      sent_in_first_10s: inWindow,
      max_in_any_1s: maxPerSecond,
      all_sent_after_ms: times.at(-1)! - t0,
    });
  }, 60_000);
});

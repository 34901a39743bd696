/**
 * SMTP delivery against a real SMTP server in-process (SmtpSink in @tasks/runtime/testing, and an
 * smtp-server with TLS and login): the message's headers and Message-ID, html as an alternative
 * part, pooled connections, the classification of 421 and 550 replies, and the circuit breaker
 * opening on a server that is down, trying no connection while open, and closing again through a
 * half-open probe once the server is back.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { errorCode } from '@tasks/runtime';
import { SmtpSink, waitFor } from '@tasks/runtime/testing';
import { SMTPServer } from 'smtp-server';
import { BreakerMailer } from '../src/breaker-mailer';
import { type OutgoingMail, type SmtpOptions, SmtpMailer } from '../src/mailer';
import { classifySmtpError } from '../src/smtp-errors';

const FROM = 'Task Platform <tasks@localhost>';
let seq = 0;
const mail = (extra: Partial<OutgoingMail> = {}): OutgoingMail => {
  seq += 1;
  return {
    to: 'ada@example.com',
    subject: `message ${seq}`,
    text: 'Hello Ada',
    messageId: `<task-${seq}@tasks.local>`,
    ...extra,
  };
};

describe('SMTP delivery through the sink', () => {
  let sink: SmtpSink;
  let smtp: SmtpMailer;

  const options = (): SmtpOptions => ({
    url: sink.url,
    timeoutMs: 2_000,
    requireTls: false,
    tlsRejectUnauthorized: true,
    maxConnections: 2,
  });

  beforeEach(async () => {
    sink = await SmtpSink.start();
    smtp = new SmtpMailer(options(), FROM);
  });

  afterEach(async () => {
    await smtp.close();
    await sink.close();
  });

  it('delivers with From, To, Subject and the task’s Message-ID', async () => {
    const sent = await smtp.send(mail({ subject: 'Quarterly numbers' }));
    expect(sent.messageId).toBe(`<task-${seq}@tasks.local>`);
    expect(sink.accepted).toHaveLength(1);
    const [accepted] = sink.accepted;
    expect(accepted).toMatchObject({
      messageId: `<task-${seq}@tasks.local>`,
      to: ['ada@example.com'],
      subject: 'Quarterly numbers',
    });
    expect(accepted?.raw).toMatch(/^From: Task Platform <tasks@localhost>$/m);
    expect(accepted?.raw).toMatch(/^To: ada@example.com$/m);
    expect(accepted?.raw).toContain('Hello Ada');
  });

  it('sends html as an alternative to the text', async () => {
    await smtp.send(mail({ html: '<p>Hello <b>Ada</b></p>' }));
    const raw = sink.accepted[0]?.raw ?? '';
    expect(raw).toMatch(/Content-Type: multipart\/alternative/);
    expect(raw).toMatch(/Content-Type: text\/plain/);
    expect(raw).toMatch(/Content-Type: text\/html/);
    expect(raw).toContain('<p>Hello <b>Ada</b></p>');
  });

  it('reuses pooled connections', async () => {
    for (let i = 0; i < 10; i += 1) await smtp.send(mail());
    expect(sink.accepted).toHaveLength(10);
    expect(sink.connections.length).toBe(1);
  });

  it('reports a 421 reply as a transient outage', async () => {
    sink.reply(421, 'Service shutting down');
    const err = await smtp.send(mail()).catch((e: unknown) => e);
    expect(classifySmtpError(err)).toEqual({ kind: 'transient', outage: true });
    expect((err as Error).message).toContain('421 Service shutting down');
  });

  it('reports a 550 reply as permanent, with the server’s text', async () => {
    sink.reply(550, 'No such user here');
    const err = await smtp.send(mail()).catch((e: unknown) => e);
    expect(classifySmtpError(err)).toEqual({ kind: 'permanent', responseCode: 550 });
    expect((err as Error).message).toContain('550 No such user here');
  });

  it('reports a refused connection and one dropped before the greeting as outages', async () => {
    await sink.down('refuse');
    const refused = await smtp.send(mail()).catch((e: unknown) => e);
    expect(classifySmtpError(refused)).toEqual({ kind: 'transient', outage: true });
    await sink.down('reset');
    const dropped = await smtp.send(mail()).catch((e: unknown) => e);
    expect(classifySmtpError(dropped)).toEqual({ kind: 'transient', outage: true });
  });

  it('opens the breaker on a down server, tries no connection while open, closes once it is back', async () => {
    const breaker = new BreakerMailer(new SmtpMailer(options(), FROM), {
      threshold: 3,
      windowMs: 10_000,
      resetMs: 1_500,
    });
    try {
      await breaker.send(mail());
      await sink.down('reset');
      const before = sink.connections.length;
      for (let i = 0; i < 3; i += 1) {
        const err = await breaker.send(mail()).catch((e: unknown) => e);
        expect(errorCode(err)).toBeUndefined(); // the transport's own error, for the retries
      }
      expect(breaker.state).toBe('open');
      const attemptsToOpen = sink.connections.length - before;
      expect(attemptsToOpen).toBe(3);

      // While open: every send defers at once and no connection reaches the port.
      const openAt = sink.connections.length;
      const deferred = [];
      for (let i = 0; i < 20; i += 1) deferred.push(await breaker.send(mail()).catch((e) => e));
      expect(deferred.map(errorCode)).toEqual(Array(20).fill('TASK_DEFER'));
      expect(sink.connections.length).toBe(openAt);

      await sink.up();
      await waitFor(() => breaker.state === 'half-open', {
        timeoutMs: 3_000,
        intervalMs: 20,
        message: 'breaker half-opens after its reset time',
      });
      // Still no attempt before the probe.
      expect(sink.connections.length).toBe(openAt);
      await breaker.send(mail({ subject: 'probe' }));
      expect(breaker.state).toBe('closed');
      expect(sink.accepted.at(-1)?.subject).toBe('probe');
      await breaker.send(mail({ subject: 'after' }));
      expect(sink.accepted.at(-1)?.subject).toBe('after');
    } finally {
      await breaker.close();
    }
  });
});

describe('SMTP delivery with TLS and login', () => {
  let server: SMTPServer;
  let port: number;
  const received: { user: string | undefined; secure: boolean }[] = [];

  beforeAll(async () => {
    server = new SMTPServer({
      secure: true, // implicit TLS with smtp-server's built-in self-signed certificate
      logger: false,
      onAuth: (auth, _session, callback) => {
        if (auth.username === 'mailer' && auth.password === 's3cret') {
          callback(null, { user: auth.username });
        } else {
          callback(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }));
        }
      },
      onData: (stream, session, callback) => {
        stream.resume();
        stream.on('end', () => {
          received.push({ user: session.user as string | undefined, secure: session.secure });
          callback();
        });
      },
    });
    // A client that refuses the certificate drops the socket mid-handshake: not the test's error.
    server.on('error', () => undefined);
    server.listen(0, '127.0.0.1');
    await once(server.server, 'listening');
    port = (server.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const tlsOptions = (extra: Partial<SmtpOptions>): SmtpOptions => ({
    url: `smtps://127.0.0.1:${port}`,
    timeoutMs: 2_000,
    requireTls: false,
    tlsRejectUnauthorized: false,
    maxConnections: 1,
    user: 'mailer',
    password: 's3cret',
    ...extra,
  });

  it('logs in over TLS with SMTP_USER and SMTP_PASSWORD', async () => {
    const smtp = new SmtpMailer(tlsOptions({}), FROM);
    try {
      await smtp.send(mail());
      expect(received.at(-1)).toEqual({ user: 'mailer', secure: true });
    } finally {
      await smtp.close();
    }
  });

  it('fails permanently on a wrong password (535)', async () => {
    const smtp = new SmtpMailer(tlsOptions({ password: 'wrong' }), FROM);
    try {
      const err = await smtp.send(mail()).catch((e: unknown) => e);
      expect(classifySmtpError(err)).toEqual({ kind: 'permanent', responseCode: 535 });
    } finally {
      await smtp.close();
    }
  });

  it('refuses an unverified certificate unless told otherwise, as a transient outage', async () => {
    const smtp = new SmtpMailer(tlsOptions({ tlsRejectUnauthorized: true }), FROM);
    try {
      const err = await smtp.send(mail()).catch((e: unknown) => e);
      expect(classifySmtpError(err)).toEqual({ kind: 'transient', outage: true });
      expect(String((err as Error).message)).toMatch(/certificate/i);
    } finally {
      await smtp.close();
    }
  });
});

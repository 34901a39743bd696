/**
 * The SMTP transport's options from the settings (smtpTransportOptions): pooled, TLS from the
 * scheme unless SMTP_SECURE says otherwise, login from the URL or SMTP_USER/SMTP_PASSWORD, a
 * bounded pool, no requeue loop, no file or URL access from message content.
 */
import { type SmtpOptions, smtpTransportOptions } from '../src/mailer';

const base: SmtpOptions = {
  url: 'smtp://127.0.0.1:1025',
  timeoutMs: 5_000,
  requireTls: false,
  tlsRejectUnauthorized: true,
  maxConnections: 3,
};

describe('smtpTransportOptions', () => {
  it('pools plain SMTP to the URL host and port with the timeouts', () => {
    expect(smtpTransportOptions(base)).toEqual({
      pool: true,
      host: '127.0.0.1',
      port: 1025,
      secure: false,
      requireTLS: false,
      tls: { rejectUnauthorized: true },
      maxConnections: 3,
      maxRequeues: 0,
      connectionTimeout: 5_000,
      greetingTimeout: 5_000,
      socketTimeout: 5_000,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  });

  it('uses TLS from the first byte for smtps://', () => {
    expect(smtpTransportOptions({ ...base, url: 'smtps://mail.example.com' })).toMatchObject({
      host: 'mail.example.com',
      secure: true,
    });
    expect(smtpTransportOptions({ ...base, url: 'smtps://mail.example.com' })).not.toHaveProperty(
      'port',
    );
  });

  it('lets SMTP_SECURE override the scheme', () => {
    expect(smtpTransportOptions({ ...base, secure: true }).secure).toBe(true);
    expect(
      smtpTransportOptions({ ...base, url: 'smtps://mail.example.com:465', secure: false }).secure,
    ).toBe(false);
  });

  it('passes STARTTLS and certificate settings', () => {
    expect(
      smtpTransportOptions({ ...base, requireTls: true, tlsRejectUnauthorized: false }),
    ).toMatchObject({ requireTLS: true, tls: { rejectUnauthorized: false } });
  });

  it('takes the login from the URL, decoded', () => {
    expect(
      smtpTransportOptions({ ...base, url: 'smtp://me%40corp:p%3Ass@mail.example.com:587' }).auth,
    ).toEqual({ user: 'me@corp', pass: 'p:ss' });
  });

  it('lets SMTP_USER and SMTP_PASSWORD override the URL login', () => {
    expect(
      smtpTransportOptions({
        ...base,
        url: 'smtp://old:old@mail.example.com',
        user: 'new',
        password: 'secret',
      }).auth,
    ).toEqual({ user: 'new', pass: 'secret' });
  });

  it('sends no login when none is configured', () => {
    expect(smtpTransportOptions(base)).not.toHaveProperty('auth');
  });

  it('takes an IPv6 host without brackets', () => {
    expect(smtpTransportOptions({ ...base, url: 'smtp://[::1]:2525' })).toMatchObject({
      host: '::1',
      port: 2525,
    });
  });
});

/**
 * SMTP failure classification (smtp-errors.ts): 5xx is permanent; 4xx and connection errors are
 * transient; only connection errors, timeouts and 421 count as outages for the breaker. The
 * error shapes are nodemailer's (recorded against smtp-server).
 */
import { classifySmtpError, isPermanentSmtpReply, isSmtpOutage } from '../src/smtp-errors';

const reply = (responseCode: number, message: string): Error =>
  Object.assign(new Error(`Message failed: ${message}`), { code: 'EMESSAGE', responseCode });
const socket = (code: string, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(code), { code, ...extra });

describe('classifySmtpError', () => {
  it.each([550, 552, 553, 554, 535])('calls a %i reply permanent', (code) => {
    expect(classifySmtpError(reply(code, `${code} no`))).toEqual({
      kind: 'permanent',
      responseCode: code,
    });
    expect(isPermanentSmtpReply(reply(code, 'no'))).toBe(true);
    expect(isSmtpOutage(reply(code, 'no'))).toBe(false);
  });

  it('calls a 421 reply a transient outage', () => {
    expect(classifySmtpError(reply(421, '421 Try again later'))).toEqual({
      kind: 'transient',
      outage: true,
    });
  });

  it.each([450, 451, 452])('calls a %i reply transient without an outage', (code) => {
    expect(classifySmtpError(reply(code, `${code} later`))).toEqual({
      kind: 'transient',
      outage: false,
    });
  });

  it.each([
    ['a refused connection', socket('ESOCKET', { errno: -111, command: 'CONN' })],
    ['a connection closed before the greeting', socket('ECONNECTION')],
    ['a greeting timeout', socket('ETIMEDOUT', { command: 'CONN' })],
    ['a reset connection', socket('ECONNRESET')],
    ['a refused connection from a raw socket', socket('ECONNREFUSED')],
    ['a DNS failure', socket('EDNS')],
    ['a TLS failure', socket('ETLS')],
  ])('calls %s a transient outage', (_, err) => {
    expect(classifySmtpError(err)).toEqual({ kind: 'transient', outage: true });
    expect(isSmtpOutage(err)).toBe(true);
  });

  it.each([
    ['an error without a code', new Error('boom')],
    [
      'a simulated provider error',
      Object.assign(new Error('x'), { name: 'SimulatedProviderError' }),
    ],
    ['a thrown string', 'nope'],
    ['undefined', undefined],
    ['a platform error code', Object.assign(new Error('later'), { code: 'TASK_DEFER' })],
  ])('calls %s transient without an outage', (_, err) => {
    expect(classifySmtpError(err)).toEqual({ kind: 'transient', outage: false });
  });
});

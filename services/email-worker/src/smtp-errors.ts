/**
 * What an SMTP failure means, decided in one place:
 *
 * - a 5xx reply is final (RFC 5321 §4.2.1): `permanent`, the task fails at once;
 * - a 4xx reply, a refused, reset or timed-out connection, a greeting that never came: `transient`,
 *   retried by the runtime with backoff;
 * - `outage` says whether the failure tells that the server is unreachable or shutting down
 *   (connection errors, timeouts, 421 "service not available"): only those count toward the
 *   circuit breaker. A 5xx, or a 4xx about one message or mailbox (greylisting, a full
 *   mailbox), came from a server that is up.
 */

/** Error codes of nodemailer and Node's sockets that mean "could not talk to the server". */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNECTION',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPROXY',
]);

/** Reply 421: the server is closing the channel (shutting down, overloaded). */
const SERVICE_NOT_AVAILABLE = 421;

export type SmtpFailure =
  | { readonly kind: 'permanent'; readonly responseCode: number }
  | { readonly kind: 'transient'; readonly outage: boolean };

interface ErrorFields {
  readonly code?: unknown;
  readonly errno?: unknown;
  readonly responseCode?: unknown;
}

const fieldsOf = (err: unknown): ErrorFields =>
  typeof err === 'object' && err !== null ? err : {};

/** The SMTP reply code carried by a nodemailer error, if the server answered. */
export function smtpReplyCode(err: unknown): number | undefined {
  const code = fieldsOf(err).responseCode;
  return typeof code === 'number' && code >= 200 && code < 600 ? code : undefined;
}

/** Classifies any error thrown by a send. */
export function classifySmtpError(err: unknown): SmtpFailure {
  const reply = smtpReplyCode(err);
  if (reply !== undefined && reply >= 500) return { kind: 'permanent', responseCode: reply };
  if (reply !== undefined && reply >= 400) {
    return { kind: 'transient', outage: reply === SERVICE_NOT_AVAILABLE };
  }
  const { code, errno } = fieldsOf(err);
  const connection =
    (typeof code === 'string' && CONNECTION_CODES.has(code)) ||
    (typeof errno === 'string' && CONNECTION_CODES.has(errno));
  return { kind: 'transient', outage: connection };
}

/** SMTP 5xx replies are final (RFC 5321): retrying cannot help. */
export const isPermanentSmtpReply = (err: unknown): boolean =>
  classifySmtpError(err).kind === 'permanent';

/** True for failures that say the server is unreachable or going away (they trip the breaker). */
export const isSmtpOutage = (err: unknown): boolean => {
  const failure = classifySmtpError(err);
  return failure.kind === 'transient' && failure.outage;
};

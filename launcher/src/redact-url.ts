/**
 * Masks the password of a URL before it is printed. (runtime's censorUrl follows the same rule;
 * the launcher depends on no workspace package.)
 */

/** What a password is replaced with. */
export const MASK = '***';

/**
 * Returns `raw` with its password (if any) replaced by `***`:
 * `amqp://guest:guest@host:5672` → `amqp://guest:***@host:5672`,
 * `redis://:secret@host:6379` → `redis://:***@host:6379`. Never throws, and never trusts a URL
 * parser: a password holding `/`, `?`, `#` or `@` unencoded makes a URL fail to parse, or parse
 * with the rest of the password in its path. So everything between the user name and the last
 * `@` is masked; without any `@`, a `user:password` that lost its host is masked whole.
 */
export function redactUrl(raw: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(raw)?.[0] ?? '';
  const rest = raw.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userInfo = rest.slice(0, at);
    const colon = userInfo.indexOf(':');
    if (colon < 0 && !/[/?#]/.test(userInfo)) return raw; // a user name without password
    const user = colon < 0 ? '' : userInfo.slice(0, colon);
    return `${scheme}${user}:${MASK}@${rest.slice(at + 1)}`;
  }
  // Only a port may follow a colon (IPv6 addresses in brackets aside).
  const authority = rest.split(/[/?#]/, 1)[0]?.replace(/\[[^\]]*\]/g, '') ?? '';
  return /:(?!\d*$)/.test(authority) ? `${scheme}${MASK}` : raw;
}

/** `redactUrl` of each element of a comma-separated list (AMQP_URL naming a cluster's nodes). */
export function redactUrlList(raw: string): string {
  return raw
    .split(',')
    .map((url) => redactUrl(url.trim()))
    .join(',');
}

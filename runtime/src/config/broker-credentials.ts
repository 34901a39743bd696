/**
 * RabbitMQ's default `guest` account is for a broker on the same machine only: a service that
 * would log in as guest (named, or by leaving the user out) to a broker elsewhere refuses to
 * start. Give it its own user instead (`npm run provision`, deploy/make-secrets.js).
 */
import { isIP } from 'node:net';

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/** True when `url` logs in as guest to a broker that is not on loopback. */
export function usesGuestBeyondLoopback(url: string): boolean {
  if (!/^amqps?:\/\//.test(url)) return false; // the URL's own rule reports it
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false; // the URL's own rule reports it
  }
  const user = decodeURIComponent(parsed.username);
  return (user === '' || user === 'guest') && !isLoopbackHost(parsed.hostname);
}

export const GUEST_REFUSED =
  'the default guest account is refused outside loopback: give the service its own user (npm run provision)';

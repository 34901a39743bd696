/**
 * `AMQP_URL` holds one broker URL or, for a cluster, a comma-separated list of its nodes' URLs:
 * a service connects to the first that answers and moves to the next when its node goes away.
 * Each element must be an amqp:// or amqps:// URL on its own; a bad one is reported by its
 * position, never by its value (it may hold a password).
 */
import { GUEST_REFUSED, usesGuestBeyondLoopback } from './broker-credentials';

/** The elements of an `AMQP_URL` value, trimmed, in order (empty ones kept, to be reported). */
export function splitAmqpUrls(value: string): string[] {
  return value.split(',').map((url) => url.trim());
}

/** What is wrong with one element, or undefined when it is a usable broker URL. */
function elementProblem(url: string): string | undefined {
  if (url === '') return 'is empty';
  if (!/^amqps?:\/\//.test(url)) return 'must be an amqp:// or amqps:// URL';
  try {
    new URL(url);
  } catch {
    return 'is not a valid URL';
  }
  if (usesGuestBeyondLoopback(url)) return GUEST_REFUSED;
  return undefined;
}

/**
 * One message per bad element, naming it by position when there are several: e.g.
 * `element 2 of 3 must be an amqp:// or amqps:// URL`. Empty for a valid value.
 */
export function amqpUrlProblems(value: string): string[] {
  const urls = splitAmqpUrls(value);
  return urls.flatMap((url, i) => {
    const problem = elementProblem(url);
    if (problem === undefined) return [];
    return [urls.length > 1 ? `element ${i + 1} of ${urls.length} ${problem}` : problem];
  });
}

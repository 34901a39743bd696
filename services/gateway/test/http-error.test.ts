/**
 * Redis failing answers 503 with Retry-After, whatever way the failure shows (a master killed
 * behind Sentinel resets the link, aborts commands in flight, leaves the sentinels pointing at a
 * dead node for a moment); anything else unexpected stays a 500.
 */
import { isRedisError, toHttpError } from '../src/http-error';

/** What ioredis rejects a command in flight with when its link closes. */
const aborted = (): Error =>
  Object.assign(new Error('Command aborted due to connection close'), { name: 'AbortError' });

const socketError = (message: string, syscall: string): Error =>
  Object.assign(new Error(message), { syscall, code: message.split(' ').pop() });

describe('toHttpError for Redis failures', () => {
  it.each([
    ['a command aborted by a closed link', aborted()],
    ['a link reset by a killed master', socketError('read ECONNRESET', 'read')],
    ['a write to a dead link', socketError('write EPIPE', 'write')],
    [
      'no master while the sentinels fail over',
      new Error('All sentinels are unreachable. Retrying from scratch after 10ms.'),
    ],
    ['a command timeout', new Error('Command timed out')],
    [
      'the offline queue turned off',
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    ],
  ])('answers 503 for %s', (_, err) => {
    expect(isRedisError(err)).toBe(true);
    const answer = toHttpError(err);
    expect(answer.status).toBe(503);
    expect(answer.headers['Retry-After']).toBe('5');
  });

  it('answers 500 for a programming error', () => {
    expect(toHttpError(new TypeError('x is undefined')).status).toBe(500);
  });
});

/**
 * Which write failures may be a poison event (isolated, then parked) and which are Redis's state
 * (retried, never parked; a refusal turns readiness red).
 */
import { classifyWriteFailure } from '../src/poison-isolation';

const reply = (message: string): Error => Object.assign(new Error(message), { name: 'ReplyError' });

describe('classifyWriteFailure', () => {
  it.each([
    "NOPERM User status-store has no permissions to run the 'evalsha' command",
    "OOM command not allowed when used memory > 'maxmemory'.",
    "ERR The user executing the script can't run this command or subcommand script: 1f…",
    "READONLY You can't write against a read only replica.",
    'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist',
    'ERR max number of clients reached',
  ])('a write Redis refuses whatever it is, is refused: %s', (message) => {
    expect(classifyWriteFailure(reply(message))).toBe('refused');
  });

  it.each([
    'LOADING Redis is loading the dataset in memory',
    'BUSY Redis is busy running a script.',
  ])('a Redis not ready yet is unavailable: %s', (message) => {
    expect(classifyWriteFailure(reply(message))).toBe('unavailable');
  });

  it('a connection error or a timeout is unavailable', () => {
    expect(classifyWriteFailure(new Error('Connection is closed.'))).toBe('unavailable');
    expect(classifyWriteFailure(new Error('Command timed out'))).toBe('unavailable');
  });

  it('an error for one key, or our code failing on an event, is suspect', () => {
    expect(
      classifyWriteFailure(
        reply('WRONGTYPE Operation against a key holding the wrong kind of value script: 9c…'),
      ),
    ).toBe('suspect');
    expect(classifyWriteFailure(new TypeError('Cannot read properties of undefined'))).toBe(
      'suspect',
    );
  });
});

/**
 * AMQP_URL names one broker or, comma-separated, every node of a cluster. Each element is checked
 * on its own; a bad one stops the service with a ConfigError naming AMQP_URL and the element's
 * position, never its value (it may hold a password).
 */
import { amqpUrlProblems, splitAmqpUrls } from '../src/config/amqp-urls';
import { BaseServiceConfig } from '../src/config/base-config';
import { parseConfig } from '../src/config/parse-config';
import { ConfigError } from '../src/errors';

const CLUSTER =
  'amqp://svc:s3cret@rabbit-1:5672/tasks, amqp://svc:s3cret@rabbit-2:5672/tasks,amqp://svc:s3cret@rabbit-3:5672/tasks';

function configError(AMQP_URL: string): ConfigError {
  try {
    parseConfig(BaseServiceConfig, { AMQP_URL });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('AMQP_URL as a list of cluster nodes', () => {
  it('splits a list into its trimmed elements, in order', () => {
    expect(splitAmqpUrls(CLUSTER)).toEqual([
      'amqp://svc:s3cret@rabbit-1:5672/tasks',
      'amqp://svc:s3cret@rabbit-2:5672/tasks',
      'amqp://svc:s3cret@rabbit-3:5672/tasks',
    ]);
    expect(splitAmqpUrls('amqp://127.0.0.1')).toEqual(['amqp://127.0.0.1']);
  });

  it('accepts a list of node URLs, and keeps the value as given', () => {
    expect(amqpUrlProblems(CLUSTER)).toEqual([]);
    expect(parseConfig(BaseServiceConfig, { AMQP_URL: CLUSTER }).AMQP_URL).toBe(CLUSTER);
  });

  it.each([
    [
      'a bad scheme',
      'amqp://svc:s3cret@a:5672,http://svc:s3cret@b:5672',
      'element 2 of 2 must be an amqp:// or amqps:// URL',
    ],
    [
      'an empty element',
      'amqp://svc:s3cret@a:5672,,amqp://svc:s3cret@c:5672',
      'element 2 of 3 is empty',
    ],
    ['a trailing comma', 'amqp://svc:s3cret@a:5672,', 'element 2 of 2 is empty'],
    [
      'an unparseable URL',
      'amqp://svc:s3cret@a:5672,amqp://svc:s3cret@b:99999',
      'element 2 of 2 is not a valid URL',
    ],
    [
      'guest beyond loopback',
      'amqp://guest:s3cret@a:5672,amqp://svc:s3cret@b:5672',
      'element 1 of 2 the default guest account is refused',
    ],
  ])('refuses %s, naming AMQP_URL and the element, never the value', (_, value, expected) => {
    const err = configError(value);
    expect(err.variables).toEqual(['AMQP_URL']);
    expect(err.message).toContain(`AMQP_URL: ${expected}`);
    expect(err.message).not.toContain('s3cret');
  });

  it('reports every bad element of a list', () => {
    expect(amqpUrlProblems('x,amqp://127.0.0.1,')).toEqual([
      'element 1 of 3 must be an amqp:// or amqps:// URL',
      'element 3 of 3 is empty',
    ]);
  });

  it('keeps the single-URL messages unchanged', () => {
    expect(amqpUrlProblems('http://x')).toEqual(['must be an amqp:// or amqps:// URL']);
  });
});

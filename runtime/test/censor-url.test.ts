/**
 * censorUrl: a URL is safe to log whatever it holds. Passwords with `/` or `@` (not
 * percent-encoded) make a URL fail to parse, or parse with part of the password in its path.
 */
import { censorUrl } from '@tasks/runtime';

describe('censorUrl', () => {
  it.each([
    ['amqp://guest:guest@127.0.0.1:5672', 'amqp://guest:***@127.0.0.1:5672'],
    ['redis://:secret@127.0.0.1:6379', 'redis://:***@127.0.0.1:6379'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['amqp://worker:pa/ss@rabbit:5672/tasks', 'amqp://worker:***@rabbit:5672/tasks'],
    ['amqp://worker:12/secret@rabbit:5672/tasks', 'amqp://worker:***@rabbit:5672/tasks'],
    ['smtp://mailer:a@b/c@mail:25', 'smtp://mailer:***@mail:25'],
    ['amqp://worker:s3cret', 'amqp://***'],
  ])('%s → %s', (raw, shown) => {
    expect(censorUrl(raw)).toBe(shown);
  });
});

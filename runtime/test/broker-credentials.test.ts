/** Services refuse RabbitMQ's default guest account outside loopback, naming AMQP_URL only. */
import { BaseServiceConfig } from '../src/config/base-config';
import { parseConfig } from '../src/config/parse-config';
import { ConfigError } from '../src/errors';

const load = (AMQP_URL: string) => () => parseConfig(BaseServiceConfig, { AMQP_URL });

describe('AMQP_URL and the guest account', () => {
  it.each([
    'amqp://guest:guest@127.0.0.1:5672',
    'amqp://guest:guest@localhost:5672/tasks',
    'amqp://127.0.0.1',
    'amqp://guest:guest@[::1]:5672',
    'amqp://worker:s3cret@rabbitmq:5672/tasks',
    'amqps://worker:s3cret@broker.example.com/tasks',
  ])('accepts %s', (url) => {
    expect(load(url)).not.toThrow();
  });

  it.each([
    'amqp://guest:guest@rabbitmq:5672/tasks',
    'amqp://guest:hunter2-secret@10.0.0.5:5672',
    'amqps://broker.example.com/tasks',
    'amqp://gu%65st:pw@0.0.0.0',
  ])('refuses guest beyond loopback: %s', (url) => {
    let error: unknown;
    try {
      load(url)();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables).toEqual(['AMQP_URL']);
    expect((error as Error).message).toContain('guest account is refused');
    // The message names the variable, never its value (the password).
    expect((error as Error).message).not.toContain('hunter2');
    expect((error as Error).message).not.toContain(url);
  });
});

describe('config errors and secrets', () => {
  it('name the variable, never the value, whatever the rule that failed', () => {
    const secret = 'pa55-very-secret-value';
    let error: unknown;
    try {
      parseConfig(BaseServiceConfig, {
        AMQP_URL: `http://admin:${secret}@broker`,
        REDIS_URL: `ftp://admin:${secret}@redis`,
        DELAY_LEVELS: secret,
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect([...(error as ConfigError).variables].sort()).toEqual([
      'AMQP_URL',
      'DELAY_LEVELS',
      'REDIS_URL',
    ]);
    expect((error as Error).message).not.toContain(secret);
  });
});

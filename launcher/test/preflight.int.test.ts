/**
 * The preflight checks against this machine's real brokers: RabbitMQ on 127.0.0.1:5672 and
 * Redis on 127.0.0.1:6379 (or AMQP_URL / REDIS_URL). Start them with
 * `docker compose up -d rabbitmq redis`, or as .ci/run does.
 */
import { DEFAULT_AMQP_URL, DEFAULT_REDIS_URL } from '../src/config';
import { checkAmqp, checkRedis } from '../src/preflight';

const amqpUrl = process.env.AMQP_URL ?? DEFAULT_AMQP_URL;
const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;

describe('preflight against the real brokers', () => {
  it('finds RabbitMQ answering the AMQP 0-9-1 header', async () => {
    const result = await checkAmqp(amqpUrl);
    expect(result.message).toMatch(/^RabbitMQ answers at amqp/);
    expect(result.ok).toBe(true);
  });

  it('finds Redis answering PING', async () => {
    const result = await checkRedis(redisUrl);
    expect(result.message).toMatch(/^Redis answers at redis/);
    expect(result.ok).toBe(true);
  });

  it('reports Redis refusing a password it does not expect, without printing it', async () => {
    const url = new URL(redisUrl);
    url.username = 'no-such-user';
    url.password = 'not-the-password';
    const result = await checkRedis(url.toString());
    expect(result.ok).toBe(false);
    expect(result.message).toContain('Redis refused:');
    expect(result.message).not.toContain('not-the-password');
  });
});

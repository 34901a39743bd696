/**
 * The per-key rate limit on a real Redis (own key prefix, removed afterwards): `limit` requests
 * per window, then refused with the seconds until the window ends; a new window admits again;
 * buckets are independent, and the count is shared by every limiter on the same Redis (replicas).
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { deleteKeys, TEST_REDIS_URL, waitFor } from '@tasks/runtime/testing';
import { RateLimiter } from '../src/security/rate-limiter';

const prefix = `t-rl-${randomUUID().slice(0, 8)}:`;
let redis: Redis;
let replica: Redis;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  replica = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await deleteKeys(redis, `${prefix}*`);
  redis.disconnect();
  replica.disconnect();
});

describe('RateLimiter', () => {
  it('admits `limit` requests per window, refuses the rest with Retry-After, then admits again', async () => {
    const limiter = new RateLimiter(redis, { prefix, limit: 3, windowMs: 1500 });
    const verdicts = [];
    for (let i = 0; i < 5; i += 1) verdicts.push(await limiter.take('key-a'));
    expect(verdicts.map((v) => v.allowed)).toEqual([true, true, true, false, false]);
    expect(verdicts[3]!.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(verdicts[3]!.retryAfterS).toBeLessThanOrEqual(2);
    // Another key has its own budget.
    expect((await limiter.take('key-b')).allowed).toBe(true);
    // After the window, key-a is admitted again.
    await waitFor(async () => (await limiter.take('key-a')).allowed || undefined, {
      timeoutMs: 10_000,
      intervalMs: 250,
      message: 'key-a is admitted in the next window',
    });
    expect(await redis.pttl(`${prefix}ratelimit:key-a`)).toBeGreaterThan(0);
  });

  it('shares the count between gateways on the same Redis', async () => {
    const one = new RateLimiter(redis, { prefix, limit: 2, windowMs: 60_000 });
    const two = new RateLimiter(replica, { prefix, limit: 2, windowMs: 60_000 });
    expect((await one.take('shared')).allowed).toBe(true);
    expect((await two.take('shared')).allowed).toBe(true);
    const third = await one.take('shared');
    expect(third.allowed).toBe(false);
    expect(third.retryAfterS).toBeGreaterThan(55);
  });

  it('charges a cost all or nothing: a charge that does not fit counts nothing', async () => {
    const limiter = new RateLimiter(redis, { prefix, limit: 10, windowMs: 60_000 });
    expect((await limiter.take('cost')).allowed).toBe(true);
    expect((await limiter.charge('cost', 7)).allowed).toBe(true);
    const over = await limiter.charge('cost', 3);
    expect(over.allowed).toBe(false);
    expect(over.retryAfterS).toBeGreaterThan(55);
    expect(await redis.get(`${prefix}ratelimit:cost`)).toBe('8');
    expect((await limiter.charge('cost', 2)).allowed).toBe(true);
    expect((await limiter.charge('cost', 0)).allowed).toBe(true);
    expect(await redis.get(`${prefix}ratelimit:cost`)).toBe('10');
  });
});

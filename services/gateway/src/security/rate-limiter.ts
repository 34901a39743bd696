/**
 * A fixed-window counter per bucket in Redis, shared by every gateway replica: at most `limit`
 * units per `windowMs`; beyond, the caller learns when the window ends (Retry-After). A request
 * costs one unit; a request that creates many tasks (a workflow) is charged one per task with
 * {@link RateLimiter.charge}, all or nothing. One Lua script, so the count and its expiry are
 * set together. A fixed window admits at most twice the limit across a window boundary; that is
 * the price of one key and one round trip.
 */
import { type Redis, RedisKeys } from '@tasks/runtime';

export interface RateVerdict {
  readonly allowed: boolean;
  /** Whole seconds until the window ends (at least 1), when not allowed. */
  readonly retryAfterS: number;
}

export interface RateLimiterOptions {
  readonly prefix: string;
  readonly limit: number;
  readonly windowMs: number;
  /** Which limit the counters belong to (their key family). @default 'ratelimit' */
  readonly name?: 'ratelimit' | 'ratelimit-emails';
}

// ARGV: window ms, cost, limit, '1' to refuse without counting when the cost does not fit.
const TAKE_LUA = `
local cost = tonumber(ARGV[2])
if ARGV[4] == '1' then
  local current = tonumber(redis.call('GET', KEYS[1]) or '0')
  if current + cost > tonumber(ARGV[3]) then
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl < 0 then ttl = tonumber(ARGV[1]) end
    return {current + cost, ttl}
  end
end
local count = redis.call('INCRBY', KEYS[1], cost)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`;

type TakeCommand = (
  key: string,
  windowMs: string,
  cost: string,
  limit: string,
  allOrNothing: '0' | '1',
) => Promise<[number, number]>;

export class RateLimiter {
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    private readonly options: RateLimiterOptions,
  ) {
    this.keys = new RedisKeys(options.prefix);
    if (!('takeRateUnits' in redis)) {
      redis.defineCommand('takeRateUnits', { numberOfKeys: 1, lua: TAKE_LUA });
    }
  }

  /** Counts one request of `bucket`; a refused request counts too. */
  take(bucket: string): Promise<RateVerdict> {
    return this.run(bucket, 1, '0');
  }

  /**
   * Charges `bucket` `cost` units if they all fit in its window; a refused charge counts nothing.
   * A cost of 0 is always allowed.
   */
  charge(bucket: string, cost: number): Promise<RateVerdict> {
    if (cost <= 0) return Promise.resolve({ allowed: true, retryAfterS: 0 });
    return this.run(bucket, cost, '1');
  }

  private async run(bucket: string, cost: number, allOrNothing: '0' | '1'): Promise<RateVerdict> {
    const command = (this.redis as unknown as { takeRateUnits: TakeCommand }).takeRateUnits;
    const { name = 'ratelimit', limit, windowMs } = this.options;
    const [count, ttlMs] = await command.call(
      this.redis,
      this.keys.rateWindow(name, bucket),
      String(windowMs),
      String(cost),
      String(limit),
      allOrNothing,
    );
    if (count <= limit) return { allowed: true, retryAfterS: 0 };
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil(ttlMs / 1000)) };
  }
}

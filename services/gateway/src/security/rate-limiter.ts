/**
 * A fixed-window request counter per key in Redis, shared by every gateway replica: at most
 * `limit` requests per `windowMs`; beyond, the caller learns when the window ends (Retry-After).
 * One Lua script, so the count and its expiry are set together. A fixed window admits at most
 * twice the limit across a window boundary; that is the price of one key and one round trip.
 */
import type { Redis } from '@tasks/runtime';

export interface RateVerdict {
  readonly allowed: boolean;
  /** Whole seconds until the window ends (at least 1), when not allowed. */
  readonly retryAfterS: number;
}

const TAKE_LUA = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`;

type TakeCommand = (key: string, windowMs: string) => Promise<[number, number]>;

export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly options: {
      readonly prefix: string;
      readonly limit: number;
      readonly windowMs: number;
    },
  ) {
    if (!('takeRateSlot' in redis)) {
      redis.defineCommand('takeRateSlot', { numberOfKeys: 1, lua: TAKE_LUA });
    }
  }

  async take(bucket: string): Promise<RateVerdict> {
    const command = (this.redis as unknown as { takeRateSlot: TakeCommand }).takeRateSlot;
    const [count, ttlMs] = await command.call(
      this.redis,
      `${this.options.prefix}ratelimit:${bucket}`,
      String(this.options.windowMs),
    );
    if (count <= this.options.limit) return { allowed: true, retryAfterS: 0 };
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil(ttlMs / 1000)) };
  }
}

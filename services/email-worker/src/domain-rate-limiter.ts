/**
 * Sends per second to one recipient domain, shared by every email-worker process through Redis
 * (EMAIL_RATE_PER_SECOND, EMAIL_RATE_BURST).
 *
 * GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp): the domain's key
 * holds the theoretical arrival time (TAT) of the next send. A send at `now` conforms when
 * `TAT - now <= (burst - 1) * interval`; each send moves the TAT one interval on. A task that does
 * not conform is not refused: it is given the next free slot (the TAT moves on for it too) and
 * told to come back then, with a DeferError through the broker's delay levels (no attempt
 * counted). Its slot is kept under its task id, so when it returns it sends without queueing
 * again, and a redelivered copy finds the same slot. Slots are handed out one interval apart,
 * so the sends of one domain never exceed the rate, however many workers share it; no task is
 * lost or failed, they wait.
 *
 * One Lua script does the read-modify-write atomically, on Redis's clock (workers' clocks may
 * disagree).
 */
import { DeferError, type Redis, RedisKeys } from '@tasks/runtime';

export interface DomainRateLimiterOptions {
  /** Key prefix (REDIS_PREFIX). */
  readonly prefix: string;
  /** Sends per second per domain; > 0. */
  readonly perSecond: number;
  /** Sends allowed back to back before the pacing starts; >= 1. */
  readonly burst: number;
}

/**
 * KEYS[1] domain TAT (ms, may be fractional), KEYS[2] this task's slot (ms).
 * ARGV[1] interval ms, ARGV[2] burst. Returns 0 to send now, else the wait in ms until the slot.
 * Fractions are kept with string.format: Lua 5.1's tostring keeps only 14 digits.
 */
const ACQUIRE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local slot = redis.call('GET', KEYS[2])
if slot then
  local at = tonumber(slot)
  if at <= now then
    redis.call('DEL', KEYS[2])
    return 0
  end
  return math.ceil(at - now)
end
local interval = tonumber(ARGV[1])
local tolerance = (tonumber(ARGV[2]) - 1) * interval
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local at = tat - tolerance
if at < now then at = now end
local nextTat = tat + interval
redis.call('SET', KEYS[1], string.format('%.3f', nextTat), 'PX', math.ceil(nextTat - now) + 1000)
if at <= now then return 0 end
local wait = math.ceil(at - now)
redis.call('SET', KEYS[2], string.format('%.3f', at), 'PX', wait + 600000)
return wait
`;

/** The recipient domain of an address, lower-cased: the rate limit's key. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return (at < 0 ? address : address.slice(at + 1)).trim().toLowerCase();
}

export class DomainRateLimiter {
  private readonly intervalMs: number;
  private readonly keys: RedisKeys;

  constructor(
    private readonly redis: Redis,
    private readonly options: DomainRateLimiterOptions,
  ) {
    if (!(options.perSecond > 0)) throw new RangeError('perSecond must be greater than 0');
    if (!Number.isInteger(options.burst) || options.burst < 1) {
      throw new RangeError('burst must be an integer >= 1');
    }
    this.intervalMs = 1000 / options.perSecond;
    this.keys = new RedisKeys(options.prefix);
  }

  /**
   * Takes a send slot for `taskId` to the domain of `address`.
   *
   * @throws DeferError with the wait until the task's slot, when it is not now
   */
  async acquire(address: string, taskId: string): Promise<void> {
    const domain = domainOf(address);
    const waitMs = Number(
      await this.redis.eval(
        ACQUIRE_LUA,
        2,
        this.keys.emailDomainRate(domain),
        this.keys.emailRateSlot(taskId),
        String(this.intervalMs),
        String(this.options.burst),
      ),
    );
    if (waitMs > 0) {
      throw new DeferError(`send rate limit of ${domain}: next slot in ${waitMs} ms`, waitMs);
    }
  }
}

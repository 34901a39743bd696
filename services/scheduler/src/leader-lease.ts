/**
 * One active scheduler among any number of instances: a lease in Redis (`SET NX PX`), renewed
 * while held, with a fencing token (an ever-increasing epoch) in its value. Tick claims check the
 * value atomically (ScheduleStore.claimTick), so an instance that lost the lease while paused
 * cannot fire anything when it wakes.
 */
import type { Redis, RedisKeys } from '@tasks/runtime';

const RENEW_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class LeaderLease {
  private value: string | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly instanceId: string,
    /** How long the lease lasts unrenewed: the longest gap a failover leaves. */
    readonly leaseMs: number,
  ) {}

  /** The lease value (`<instance>:<epoch>`) while this instance leads. */
  get held(): string | undefined {
    return this.value;
  }

  /** Takes the lease if free, or renews ours; returns whether this instance leads now. */
  async refresh(): Promise<boolean> {
    if (this.value) {
      const renewed = (await this.redis.eval(
        RENEW_LUA,
        1,
        this.keys.schedulerLeader,
        this.value,
        String(this.leaseMs),
      )) as number;
      if (renewed === 1) return true;
      this.value = undefined;
    }
    const epoch = await this.redis.incr(this.keys.schedulerEpoch);
    const candidate = `${this.instanceId}:${epoch}`;
    const taken = await this.redis.set(
      this.keys.schedulerLeader,
      candidate,
      'PX',
      this.leaseMs,
      'NX',
    );
    if (taken === 'OK') this.value = candidate;
    return this.value !== undefined;
  }

  /** Lets a standby take over at once (graceful shutdown). */
  async release(): Promise<void> {
    if (!this.value) return;
    await this.redis.eval(RELEASE_LUA, 1, this.keys.schedulerLeader, this.value);
    this.value = undefined;
  }
}

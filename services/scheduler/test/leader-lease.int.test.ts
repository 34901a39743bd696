/**
 * LeaderLease and ScheduleStore's fenced tick claims against the real Redis:
 * one instance leads, renewing keeps the lease, a standby takes over after expiry with a
 * higher epoch, and a claim made with a stale lease value is refused.
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379) and RabbitMQ (TestNamespace).
 * Keys live under a fresh prefix, deleted after each test.
 */
import { RedisKeys, ScheduleStore } from '@tasks/runtime';
import { TestNamespace, waitFor } from '@tasks/runtime/testing';
import { LeaderLease } from '../src/leader-lease';

const LEASE_MS = 1000;
const CLAIM_TTL_S = 60;
const DUE_MS = Date.UTC(2026, 0, 1, 12, 0, 0);

/** The epoch (fencing token) in a lease value `<instance>:<epoch>`. */
const epochOf = (value: string | undefined): number => Number(value?.split(':').pop());

describe('LeaderLease', () => {
  let ns: TestNamespace;
  let keys: RedisKeys;
  let a: LeaderLease;
  let b: LeaderLease;

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    keys = new RedisKeys(ns.redisPrefix);
    a = new LeaderLease(ns.redis, keys, 'a', LEASE_MS);
    b = new LeaderLease(ns.redis, keys, 'b', LEASE_MS);
  });

  afterEach(async () => {
    await ns.destroy();
  });

  /** Waits until the lease key has expired in Redis. */
  const leaseExpired = (): Promise<boolean> =>
    waitFor(async () => (await ns.redis.exists(keys.schedulerLeader)) === 0, {
      timeoutMs: 5 * LEASE_MS,
      intervalMs: 20,
      message: 'the leader lease expires',
    });

  it('lets exactly one of two instances lead', async () => {
    const [aLeads, bLeads] = await Promise.all([a.refresh(), b.refresh()]);

    expect([aLeads, bLeads].filter(Boolean)).toHaveLength(1);
    const leader = aLeads ? a : b;
    const standby = aLeads ? b : a;
    expect(standby.held).toBeUndefined();
    expect(await ns.redis.get(keys.schedulerLeader)).toBe(leader.held);
    expect(leader.held).toMatch(aLeads ? /^a:\d+$/ : /^b:\d+$/);
    const pttl = await ns.redis.pttl(keys.schedulerLeader);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(LEASE_MS);
  });

  it('keeps the lease while the leader renews it, over several lease lengths', async () => {
    expect(await a.refresh()).toBe(true);
    const value = a.held;
    const results: { a: boolean; b: boolean }[] = [];
    const until = Date.now() + 3 * LEASE_MS;

    await waitFor(
      async () => {
        results.push({ a: await a.refresh(), b: await b.refresh() });
        return Date.now() > until;
      },
      { timeoutMs: 6 * LEASE_MS, intervalMs: LEASE_MS / 4 },
    );

    expect(results.length).toBeGreaterThanOrEqual(8);
    expect(results.every((r) => r.a && !r.b)).toBe(true);
    expect(a.held).toBe(value);
    expect(await ns.redis.get(keys.schedulerLeader)).toBe(value);
  });

  it('resets the expiry when the leader renews', async () => {
    await a.refresh();
    await waitFor(async () => (await ns.redis.pttl(keys.schedulerLeader)) < LEASE_MS / 2, {
      timeoutMs: 2 * LEASE_MS,
      intervalMs: 10,
    });

    expect(await a.refresh()).toBe(true);

    expect(await ns.redis.pttl(keys.schedulerLeader)).toBeGreaterThan(LEASE_MS / 2);
  });

  it('lets the standby take over after the lease expires, with a higher epoch', async () => {
    expect(await a.refresh()).toBe(true);
    expect(await b.refresh()).toBe(false);
    const oldEpoch = epochOf(a.held);

    await leaseExpired();
    expect(await b.refresh()).toBe(true);

    expect(epochOf(b.held)).toBeGreaterThan(oldEpoch);
    expect(await ns.redis.get(keys.schedulerLeader)).toBe(b.held);
    // The old leader finds its lease gone and stands by.
    expect(await a.refresh()).toBe(false);
    expect(a.held).toBeUndefined();
  });

  it('hands the lease over at once on release, and only its holder can release it', async () => {
    await a.refresh();

    await b.release();
    expect(await b.refresh()).toBe(false);

    await a.release();
    expect(a.held).toBeUndefined();
    expect(await b.refresh()).toBe(true);
  });
});

describe('ScheduleStore.claimTick', () => {
  let ns: TestNamespace;
  let keys: RedisKeys;
  let store: ScheduleStore;
  let a: LeaderLease;
  let b: LeaderLease;

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    keys = new RedisKeys(ns.redisPrefix);
    store = new ScheduleStore(ns.redis, ns.redisPrefix);
    a = new LeaderLease(ns.redis, keys, 'a', LEASE_MS);
    b = new LeaderLease(ns.redis, keys, 'b', LEASE_MS);
  });

  afterEach(async () => {
    await ns.destroy();
  });

  it('claims a tick for the current leader, for the claim TTL', async () => {
    await a.refresh();

    expect(await store.claimTick('tick', DUE_MS, CLAIM_TTL_S, a.held as string)).toBe('claimed');

    const ttl = await ns.redis.ttl(keys.scheduleTick('tick', DUE_MS));
    expect(ttl).toBeGreaterThan(CLAIM_TTL_S - 5);
    expect(ttl).toBeLessThanOrEqual(CLAIM_TTL_S);
  });

  it('answers taken to a second claim of the same tick', async () => {
    await a.refresh();
    const lease = a.held as string;

    expect(await store.claimTick('tick', DUE_MS, CLAIM_TTL_S, lease)).toBe('claimed');
    expect(await store.claimTick('tick', DUE_MS, CLAIM_TTL_S, lease)).toBe('taken');
    // Another due time, or another schedule at the same due time, is a different tick.
    expect(await store.claimTick('tick', DUE_MS + 1000, CLAIM_TTL_S, lease)).toBe('claimed');
    expect(await store.claimTick('other', DUE_MS, CLAIM_TTL_S, lease)).toBe('claimed');
  });

  it('answers not-leader to a claim made with a stale lease value after a takeover', async () => {
    await a.refresh();
    const stale = a.held as string;
    await waitFor(async () => (await ns.redis.exists(keys.schedulerLeader)) === 0, {
      timeoutMs: 5 * LEASE_MS,
      intervalMs: 20,
    });
    expect(await b.refresh()).toBe(true);

    expect(await store.claimTick('tick', DUE_MS, CLAIM_TTL_S, stale)).toBe('not-leader');
    expect(await ns.redis.exists(keys.scheduleTick('tick', DUE_MS))).toBe(0);
    expect(await store.claimTick('tick', DUE_MS, CLAIM_TTL_S, b.held as string)).toBe('claimed');
  });

  it('lets a new leader take over a tick its dead predecessor claimed but never marked fired', async () => {
    await a.refresh();
    expect(await store.claimTick('tick', DUE_MS, CLAIM_TTL_S, a.held as string)).toBe('claimed');
    // `a` dies before its command's confirm is recorded; its lease runs out.
    await waitFor(async () => (await ns.redis.exists(keys.schedulerLeader)) === 0, {
      timeoutMs: 5 * LEASE_MS,
      intervalMs: 20,
    });
    expect(await b.refresh()).toBe(true);
    const lease = b.held as string;

    expect(await store.claimTick('tick', DUE_MS, CLAIM_TTL_S, lease)).toBe('claimed');
    await store.markFired('tick', DUE_MS, CLAIM_TTL_S);
    expect(await store.claimTick('tick', DUE_MS, CLAIM_TTL_S, lease)).toBe('taken');
    expect(await ns.redis.ttl(keys.scheduleTick('tick', DUE_MS))).toBeGreaterThan(CLAIM_TTL_S - 5);
  });

  it('answers not-leader when no instance holds the lease', async () => {
    await a.refresh();
    const value = a.held as string;
    await a.release();

    expect(await store.claimTick('tick', DUE_MS, CLAIM_TTL_S, value)).toBe('not-leader');
  });

  it('lets a released tick be claimed again', async () => {
    await a.refresh();
    const lease = a.held as string;
    await store.claimTick('tick', DUE_MS, CLAIM_TTL_S, lease);

    await store.releaseTick('tick', DUE_MS);

    expect(await store.claimTick('tick', DUE_MS, CLAIM_TTL_S, lease)).toBe('claimed');
  });
});

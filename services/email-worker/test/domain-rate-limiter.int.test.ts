/**
 * The per-domain send rate limit against the real Redis (domain-rate-limiter.ts): slots one
 * interval apart per domain, shared by every limiter (worker) on the same Redis, kept per task id
 * so a deferred task sends when it returns, with a burst allowance.
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379) and RabbitMQ (TestNamespace).
 * Keys live under a fresh prefix, deleted after each test.
 */
import { errorCode } from '@tasks/runtime';
import { TestNamespace, waitFor } from '@tasks/runtime/testing';
import { DomainRateLimiter, domainOf } from '../src/domain-rate-limiter';

/** The wait `acquire` asks for: 0 when it may send now. */
async function waitOf(limiter: DomainRateLimiter, address: string, taskId: string) {
  try {
    await limiter.acquire(address, taskId);
    return 0;
  } catch (err) {
    expect(errorCode(err)).toBe('TASK_DEFER');
    return (err as { delayMs: number }).delayMs;
  }
}

describe('DomainRateLimiter', () => {
  let ns: TestNamespace;

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
  });

  afterEach(async () => {
    await ns.destroy();
  });

  const limiter = (perSecond: number, burst = 1) =>
    new DomainRateLimiter(ns.redis, { prefix: ns.redisPrefix, perSecond, burst });
  /**
   * The slot a deferred task was given, in ms on Redis's clock. Waits are relative to the moment
   * each call ran, which a loaded machine spreads out; the slots are what the limit fixes.
   */
  const slotOf = async (taskId: string): Promise<number> =>
    Number(await ns.redis.get(`${ns.redisPrefix}email:rate-slot:${taskId}`));

  it('lets the first send through and gives the next ones slots one interval apart', async () => {
    const l = limiter(5);
    const waits = [];
    for (let i = 0; i < 4; i += 1) waits.push(await waitOf(l, 'a@example.com', `t${i}`));
    expect(waits[0]).toBe(0);
    // At most i intervals away (less the time the calls took), and slots exactly 200 ms apart.
    for (let i = 1; i < 4; i += 1) {
      expect(waits[i]).toBeGreaterThan(0);
      expect(waits[i]).toBeLessThanOrEqual(i * 200);
    }
    const slots = [await slotOf('t1'), await slotOf('t2'), await slotOf('t3')];
    expect(slots[1]! - slots[0]!).toBeCloseTo(200, 1);
    expect(slots[2]! - slots[1]!).toBeCloseTo(200, 1);
  });

  it('keeps a deferred task’s slot: it sends when it comes back, without queueing again', async () => {
    const l = limiter(10);
    expect(await waitOf(l, 'a@example.com', 'first')).toBe(0);
    const wait = await waitOf(l, 'a@example.com', 'second');
    expect(wait).toBeGreaterThan(0);
    // Asking again before the slot repeats the remaining wait and takes no new slot.
    const again = await waitOf(l, 'a@example.com', 'second');
    expect(again).toBeGreaterThan(0);
    expect(again).toBeLessThanOrEqual(wait);
    await waitFor(async () => (await waitOf(l, 'a@example.com', 'second')) === 0, {
      timeoutMs: 2_000,
      intervalMs: 20,
      message: 'the deferred task reaches its slot',
    });
    // The slot was used once: the task's key is gone, the next task queues behind it.
    expect(await ns.redis.exists(`${ns.redisPrefix}email:rate-slot:second`)).toBe(0);
    expect(await waitOf(l, 'a@example.com', 'third')).toBeGreaterThan(0);
  });

  it('limits each domain on its own, case-insensitively', async () => {
    const l = limiter(1);
    expect(await waitOf(l, 'a@Example.com', 't1')).toBe(0);
    expect(await waitOf(l, 'b@example.COM', 't2')).toBeGreaterThan(900);
    expect(await waitOf(l, 'a@example.org', 't3')).toBe(0);
  });

  it('shares the limit between workers', async () => {
    const [w1, w2] = [limiter(2), limiter(2)];
    expect(await waitOf(w1, 'a@example.com', 't1')).toBe(0);
    expect(await waitOf(w2, 'a@example.com', 't2')).toBeGreaterThan(0);
    expect(await waitOf(w1, 'a@example.com', 't3')).toBeGreaterThan(0);
    // One schedule for both workers: their slots are one interval (500 ms) apart.
    expect((await slotOf('t3')) - (await slotOf('t2'))).toBeCloseTo(500, 1);
  });

  it('allows a burst before pacing', async () => {
    const l = limiter(1, 3);
    const waits = [];
    for (let i = 0; i < 5; i += 1) waits.push(await waitOf(l, 'a@example.com', `t${i}`));
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    expect(waits[3]).toBeGreaterThan(0);
    expect(waits[4]).toBeGreaterThan(waits[3]!);
    expect((await slotOf('t4')) - (await slotOf('t3'))).toBeCloseTo(1000, 1);
  });

  it('hands out distinct slots to concurrent callers', async () => {
    const l = limiter(20);
    const waits = await Promise.all(
      Array.from({ length: 20 }, (_, i) => waitOf(l, 'a@example.com', `c${i}`)),
    );
    expect(waits.filter((w) => w === 0)).toHaveLength(1);
    const deferred = waits.flatMap((w, i) => (w > 0 ? [`c${i}`] : []));
    const slots = (await Promise.all(deferred.map(slotOf))).sort((a, b) => a - b);
    expect(slots).toHaveLength(19);
    for (let i = 1; i < slots.length; i += 1) {
      // 50 ms apart on Redis's clock, whenever each call ran.
      expect(slots[i]! - slots[i - 1]!).toBeCloseTo(50, 1);
    }
  });

  it('refuses a rate of 0 or a burst below 1', () => {
    expect(() => limiter(0)).toThrow('perSecond');
    expect(() => limiter(1, 0)).toThrow('burst');
  });

  it('reads the domain of an address', () => {
    expect(domainOf('Ada.Lovelace@Mail.Example.COM')).toBe('mail.example.com');
    expect(domainOf('"odd@name"@example.com')).toBe('example.com');
  });
});

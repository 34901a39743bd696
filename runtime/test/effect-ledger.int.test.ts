/**
 * EffectLedger against the real Redis: reserve before a side effect, mark it done
 * after, release it when the effect surely did not happen.
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379) and RabbitMQ (TestNamespace).
 * Keys live under a fresh prefix, deleted after each test.
 */
import { EffectLedger, errorCode, RedisKeys } from '@tasks/runtime';
import { TestNamespace, waitFor } from '@tasks/runtime/testing';

interface Sent {
  readonly messageId: string;
}

describe('EffectLedger', () => {
  let ns: TestNamespace;
  let keys: RedisKeys;
  let ledger: EffectLedger<Sent>;

  beforeEach(async () => {
    ns = await new TestNamespace().setup();
    keys = new RedisKeys(ns.redisPrefix);
    ledger = new EffectLedger<Sent>(ns.redis, keys, {
      kind: 'email',
      reservationTtlS: 30,
      doneTtlS: 600,
    });
  });

  afterEach(async () => {
    await ns.destroy();
  });

  it('reserves a fresh effect for the reservation TTL', async () => {
    expect(await ledger.reserve('t1')).toEqual({ state: 'reserved' });

    const key = keys.effect('email', 't1');
    expect(JSON.parse((await ns.redis.get(key))!)).toMatchObject({ state: 'reserved' });
    const ttl = await ns.redis.ttl(key);
    expect(ttl).toBeGreaterThan(25);
    expect(ttl).toBeLessThanOrEqual(30);
  });

  it('throws a DeferError for the remaining reservation while another attempt holds it', async () => {
    await ledger.reserve('t1');

    const second = await ledger.reserve('t1').then(
      () => undefined,
      (err: unknown) => err,
    );

    expect(errorCode(second)).toBe('TASK_DEFER');
    expect((second as Error).name).toBe('DeferError');
    const { delayMs } = second as { delayMs: number };
    expect(delayMs).toBeGreaterThan(25_000);
    expect(delayMs).toBeLessThanOrEqual(30_000);
  });

  it('returns the stored result once the effect is done, for the done TTL', async () => {
    await ledger.reserve('t1');
    await ledger.markDone('t1', { messageId: '<t1@test>' });

    expect(await ledger.reserve('t1')).toEqual({
      state: 'done',
      result: { messageId: '<t1@test>' },
    });
    expect(await ledger.reserve('t1')).toEqual({
      state: 'done',
      result: { messageId: '<t1@test>' },
    });
    const ttl = await ns.redis.ttl(keys.effect('email', 't1'));
    expect(ttl).toBeGreaterThan(595);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  it('lets the next attempt reserve at once after a release', async () => {
    await ledger.reserve('t1');
    await ledger.release('t1');

    expect(await ns.redis.exists(keys.effect('email', 't1'))).toBe(0);
    expect(await ledger.reserve('t1')).toEqual({ state: 'reserved' });
  });

  it('keeps a done record on release', async () => {
    await ledger.reserve('t1');
    await ledger.markDone('t1', { messageId: '<t1@test>' });
    await ledger.release('t1');

    expect(await ledger.reserve('t1')).toEqual({
      state: 'done',
      result: { messageId: '<t1@test>' },
    });
  });

  it('lets the next attempt reserve once an abandoned reservation expired', async () => {
    const shortLived = new EffectLedger<Sent>(ns.redis, keys, {
      kind: 'email',
      reservationTtlS: 1,
      doneTtlS: 600,
    });
    await shortLived.reserve('t1');

    const reserved = await waitFor(
      () => shortLived.reserve('t1').catch((err: unknown) => (errorCode(err) ? false : err)),
      { timeoutMs: 3000, message: 'reservation expired' },
    );
    expect(reserved).toEqual({ state: 'reserved' });
  });

  it('keeps effects of different kinds and tasks apart', async () => {
    const reports = new EffectLedger<Sent>(ns.redis, keys, {
      kind: 'report',
      reservationTtlS: 30,
      doneTtlS: 600,
    });
    await ledger.reserve('t1');

    expect(await ledger.reserve('t2')).toEqual({ state: 'reserved' });
    expect(await reports.reserve('t1')).toEqual({ state: 'reserved' });
  });
});

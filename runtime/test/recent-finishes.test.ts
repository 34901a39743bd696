import { RecentFinishes } from '../src/worker/recent-finishes';

describe('RecentFinishes', () => {
  it('remembers a finish for at least its time to live, and forgets it by twice that', () => {
    const finishes = new RecentFinishes({ ttlMs: 1_000 }, 0);
    finishes.add('a', 1, 999);
    expect(finishes.has('a', 1, 1_998)).toBe(true);
    expect(finishes.has('a', 2, 1_998)).toBe(false);
    expect(finishes.has('b', 1, 1_998)).toBe(false);
    expect(finishes.has('a', 1, 3_000)).toBe(false);
  });

  it('counts a later attempt finished as covering the earlier ones', () => {
    const finishes = new RecentFinishes({}, 0);
    finishes.add('a', 3, 1);
    expect([1, 2, 3, 4].map((attempt) => finishes.has('a', attempt, 2))).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('keeps at most maxEntries, the newest half at least, however fast finishes come', () => {
    const finishes = new RecentFinishes({ ttlMs: 60_000, maxEntries: 4 }, 0);
    for (const id of ['a', 'b', 'c', 'd', 'e']) finishes.add(id, 1, 1);
    expect(finishes.size).toBeLessThanOrEqual(4);
    expect(['d', 'e'].every((id) => finishes.has(id, 1, 2))).toBe(true);
    expect(finishes.has('a', 1, 2)).toBe(false);
  });

  it('drops expired finishes as new ones come, so memory stays flat when idle turns busy', () => {
    const finishes = new RecentFinishes({ ttlMs: 10, maxEntries: 100 }, 0);
    for (let i = 0; i < 50; i += 1) finishes.add(`old-${i}`, 1, 0);
    finishes.add('new', 1, 21);
    expect(finishes.size).toBe(1);
  });
});

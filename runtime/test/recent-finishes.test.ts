import { RecentFinishes } from '../src/worker/recent-finishes';

describe('RecentFinishes', () => {
  it('remembers a finish for its time to live, then forgets it', () => {
    const finishes = new RecentFinishes({ ttlMs: 1_000 });
    finishes.add('a:1', 0);
    expect(finishes.has('a:1', 1_000)).toBe(true);
    expect(finishes.has('a:2', 1_000)).toBe(false);
    expect(finishes.has('a:1', 1_001)).toBe(false);
  });

  it('keeps at most maxEntries, dropping the oldest first', () => {
    const finishes = new RecentFinishes({ ttlMs: 60_000, maxEntries: 2 });
    finishes.add('a:1', 0);
    finishes.add('b:1', 1);
    finishes.add('c:1', 2);
    expect(finishes.size).toBe(2);
    expect(['a:1', 'b:1', 'c:1'].map((key) => finishes.has(key, 3))).toEqual([false, true, true]);
  });

  it('drops expired finishes as new ones come, so memory stays flat when idle turns busy', () => {
    const finishes = new RecentFinishes({ ttlMs: 10, maxEntries: 100 });
    for (let i = 0; i < 50; i += 1) finishes.add(`old-${i}:1`, 0);
    finishes.add('new:1', 11);
    expect(finishes.size).toBe(1);
  });
});

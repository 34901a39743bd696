import { delayRoutingKey, delayUnits, levelPattern, maxDelayMs } from '@tasks/contracts';

const o = { unitMs: 100, levels: 4 };

describe('delay levels', () => {
  it('rounds a delay up to whole units, never early', () => {
    expect(delayUnits(0, o)).toBe(0);
    expect(delayUnits(1, o)).toBe(1);
    expect(delayUnits(100, o)).toBe(1);
    expect(delayUnits(101, o)).toBe(2);
  });

  it('clamps a delay to the longest the levels hold', () => {
    expect(maxDelayMs(o)).toBe(1500);
    expect(delayUnits(10_000, o)).toBe(15);
  });

  it('writes the units as bits, highest level first, then the destination', () => {
    expect(delayRoutingKey(5, 'email-worker.tasks', o)).toBe('0.1.0.1.email-worker.tasks');
    expect(delayRoutingKey(0, 'q', o)).toBe('0.0.0.0.q');
  });

  it('selects a level bit with a topic pattern', () => {
    expect(levelPattern(3, 1, o)).toBe('1.#');
    expect(levelPattern(0, 0, o)).toBe('*.*.*.0.#');
  });
});

/** API priorities 0-9 share 5 broker levels, two per level, keeping "higher runs first". */
import { API_MAX_PRIORITY, BROKER_PRIORITY_LEVELS, brokerPriority } from '@tasks/contracts';

const API_PRIORITIES = Array.from({ length: API_MAX_PRIORITY + 1 }, (_, p) => p);

describe('brokerPriority', () => {
  it('maps each pair of API priorities onto one broker level', () => {
    expect(API_PRIORITIES.map(brokerPriority)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  });

  it('never lowers the broker level when the API priority rises', () => {
    for (const p of API_PRIORITIES.slice(1)) {
      expect(brokerPriority(p)).toBeGreaterThanOrEqual(brokerPriority(p - 1));
    }
  });

  it('uses every broker level from 0 to BROKER_PRIORITY_LEVELS - 1', () => {
    const used = new Set(API_PRIORITIES.map(brokerPriority));
    expect([...used].sort()).toEqual(
      Array.from({ length: BROKER_PRIORITY_LEVELS }, (_, level) => level),
    );
  });

  it('clamps priorities below 0 and above 9', () => {
    expect(brokerPriority(-1)).toBe(0);
    expect(brokerPriority(-1000)).toBe(0);
    expect(brokerPriority(10)).toBe(BROKER_PRIORITY_LEVELS - 1);
    expect(brokerPriority(1e9)).toBe(BROKER_PRIORITY_LEVELS - 1);
  });

  it('truncates a fractional priority to its whole part', () => {
    expect(brokerPriority(8.9)).toBe(brokerPriority(8));
    expect(brokerPriority(1.5)).toBe(brokerPriority(1));
  });
});

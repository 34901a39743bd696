/** The nearest-rank percentile the series reports run times with. */
import { percentile } from '../src/task-series';

describe('percentile', () => {
  it('takes the nearest rank of sorted values', () => {
    const values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(100);
    expect(percentile(values, 10)).toBe(10);
    expect(percentile(values, 0)).toBe(10);
    expect(percentile([7], 95)).toBe(7);
  });

  it('is 0 for no values', () => {
    expect(percentile([], 50)).toBe(0);
  });
});

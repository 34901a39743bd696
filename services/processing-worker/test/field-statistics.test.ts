/** Per-field statistics, accumulated chunk by chunk as the processing steps go. */
import { FieldStatisticsBuilder } from '../src/field-statistics';

const build = (
  ...chunks: Record<string, unknown>[][]
): ReturnType<FieldStatisticsBuilder['build']> => {
  const builder = new FieldStatisticsBuilder();
  for (const chunk of chunks) builder.add(chunk);
  return builder.build();
};

describe('FieldStatisticsBuilder', () => {
  it('returns no fields for no records', () => {
    expect(build()).toEqual({});
    expect(build([])).toEqual({});
  });

  it('gives count, min, max and mean of a numeric field', () => {
    expect(build([{ x: 4 }, { x: -2 }, { x: 7 }])).toEqual({
      x: { count: 3, numeric_count: 3, min: -2, max: 7, mean: 3 },
    });
  });

  it('counts a non-numeric field without numeric statistics', () => {
    expect(build([{ name: 'a' }, { name: 'b' }])).toEqual({
      name: { count: 2, numeric_count: 0, min: null, max: null, mean: null },
    });
  });

  it('leaves numeric strings, NaN and infinities out of the numeric statistics', () => {
    expect(build([{ v: '5' }, { v: Number.NaN }, { v: Infinity }, { v: 1 }])).toEqual({
      v: { count: 4, numeric_count: 1, min: 1, max: 1, mean: 1 },
    });
  });

  it('skips null and undefined values entirely', () => {
    expect(build([{ v: null }, { v: undefined }, { v: 2 }])).toEqual({
      v: { count: 1, numeric_count: 1, min: 2, max: 2, mean: 2 },
    });
    expect(build([{ v: null }])).toEqual({});
  });

  it('gives the same result in chunks as in one go', () => {
    const records = [{ a: 1, b: 'x' }, { a: 5 }, { b: 'y', c: 3 }, { a: 3, c: 9 }];
    expect(build(records.slice(0, 1), records.slice(1, 3), [], records.slice(3))).toEqual(
      build(records),
    );
  });

  it('lists fields in name order', () => {
    expect(Object.keys(build([{ zeta: 1, alpha: 2, mid: 3 }]))).toEqual(['alpha', 'mid', 'zeta']);
  });

  it('computes the mean of fractions', () => {
    expect(build([{ p: 0.1 }, { p: 0.2 }]).p?.mean).toBeCloseTo(0.15, 12);
  });
});

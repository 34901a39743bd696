/**
 * Per-field statistics over records, accumulated chunk by chunk: how many records carry each
 * field, and for numeric values their count, min, max and mean.
 */
export interface FieldStatistics {
  readonly count: number;
  readonly numeric_count: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
}

interface Accumulator {
  count: number;
  numeric: number;
  sum: number;
  min: number;
  max: number;
}

export class FieldStatisticsBuilder {
  private readonly fields = new Map<string, Accumulator>();

  add(records: readonly Record<string, unknown>[]): void {
    for (const record of records) {
      for (const [field, value] of Object.entries(record)) {
        if (value === null || value === undefined) continue;
        let acc = this.fields.get(field);
        if (!acc) {
          acc = { count: 0, numeric: 0, sum: 0, min: Infinity, max: -Infinity };
          this.fields.set(field, acc);
        }
        acc.count += 1;
        if (typeof value === 'number' && Number.isFinite(value)) {
          acc.numeric += 1;
          acc.sum += value;
          acc.min = Math.min(acc.min, value);
          acc.max = Math.max(acc.max, value);
        }
      }
    }
  }

  build(): Record<string, FieldStatistics> {
    const out: Record<string, FieldStatistics> = {};
    for (const [field, acc] of [...this.fields.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      out[field] = {
        count: acc.count,
        numeric_count: acc.numeric,
        min: acc.numeric > 0 ? acc.min : null,
        max: acc.numeric > 0 ? acc.max : null,
        mean: acc.numeric > 0 ? acc.sum / acc.numeric : null,
      };
    }
    return out;
  }
}

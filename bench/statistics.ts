/** Order statistics for repeated measurements: the benchmarks quote medians, never means. */

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Smallest and largest, to show the spread beside a median. */
export function spread(values: readonly number[]): { min: number; max: number } {
  return { min: Math.min(...values), max: Math.max(...values) };
}

/** A number rounded to `digits` significant digits, for result files that stay small and readable. */
export function significant(value: number, digits = 4): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  return Number(value.toPrecision(digits));
}

/** Median with the spread, each to 4 significant digits: how the result files give a set of batches. */
export function medianAndSpread(values: readonly number[]): { median: number; min: number; max: number } {
  const s = spread(values);
  return { median: significant(median(values)), min: significant(s.min), max: significant(s.max) };
}

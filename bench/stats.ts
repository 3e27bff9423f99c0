// The order statistics every benchmark prints, defined once. A q-quantile is the nearest rank: the
// smallest value with at least a share q of the values at or below it, so the p90 of 10 runs is the
// 9th, not the slowest. A median of an even count is the mean of its two middles.

function sorted(values: ArrayLike<number>): Float64Array {
  // A typed array sorts numerically; NaN goes last.
  return Float64Array.from(values).sort();
}

/** NaN when there are no values. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const s = sorted(values);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
}

/** NaN when there are no values. */
export function median(values: ArrayLike<number>): number {
  const s = sorted(values);
  if (s.length === 0) return Number.NaN;
  const mid = s.length / 2;
  return Number.isInteger(mid) ? ((s[mid - 1] ?? Number.NaN) + (s[mid] ?? Number.NaN)) / 2 : (s[Math.floor(mid)] ?? Number.NaN);
}

// The metric names a source holds that are nearest to one it lacks, for the no-match evidence: a
// typo or a neighbouring convention ("istio_requests_total" for "http_requests_total") shows up.

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

/**
 * Up to `limit` held names close to `wanted` (within half its length), nearest first; names in
 * `preferred` (other conventions' counters) come first when held.
 */
export function nearestNames(wanted: string, held: Iterable<string>, preferred: readonly string[] = [], limit = 3): string[] {
  const names = [...new Set(held)].filter((n) => n !== wanted);
  const favoured = preferred.filter((p) => p !== wanted && names.includes(p));
  const close = names
    .filter((n) => !favoured.includes(n))
    .map((n) => ({ n, d: editDistance(wanted, n) }))
    .filter(({ d }) => d <= wanted.length / 2)
    .sort((x, y) => x.d - y.d || (x.n < y.n ? -1 : x.n > y.n ? 1 : 0))
    .map(({ n }) => n);
  return [...favoured, ...close].slice(0, limit);
}

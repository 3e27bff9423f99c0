import type { CounterSeries, RawServiceSeries } from '../../src/core/regression-series.js';

// Test fixtures for label conventions other than the generator's: rename or drop labels of every
// series (e.g. a service label called "app", or metrics without a namespace label).

/** Renames labels (`to` undefined drops the label) in every series. */
export function relabel(series: RawServiceSeries, rename: Readonly<Record<string, string | undefined>>): RawServiceSeries {
  const labels = (from: Readonly<Record<string, string>>): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(from)) {
      const to = k in rename ? rename[k] : k;
      if (to !== undefined) out[to] = v;
    }
    return out;
  };
  const each = <S extends CounterSeries>(list: readonly S[]): S[] => list.map((s) => ({ ...s, labels: labels(s.labels) }));
  return { ...series, requests: each(series.requests), errors: each(series.errors), latency: each(series.latency) };
}

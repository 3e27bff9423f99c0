import type { Sample } from './openmetrics-format.js';

// Samples grouped into series (metric name + label set), each in time order. Shared by the file
// source and the test fixtures.

export interface IndexedSeries {
  name: string;
  labels: Readonly<Record<string, string>>;
  samples: [number, number][];
}

function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`;
}

/** Groups samples by metric name, then by label set; samples sorted by time, duplicates dropped. */
export function indexSamples(samples: readonly Sample[]): Map<string, IndexedSeries[]> {
  const byKey = new Map<string, IndexedSeries>();
  for (const s of samples) {
    const key = seriesKey(s.name, s.labels);
    let series = byKey.get(key);
    if (!series) {
      series = { name: s.name, labels: s.labels, samples: [] };
      byKey.set(key, series);
    }
    series.samples.push([s.timestamp, s.value]);
  }
  const byName = new Map<string, IndexedSeries[]>();
  for (const series of byKey.values()) {
    series.samples.sort((a, b) => a[0] - b[0]);
    series.samples = series.samples.filter((p, i, all) => i === 0 || p[0] !== all[i - 1]?.[0]);
    const list = byName.get(series.name) ?? [];
    list.push(series);
    byName.set(series.name, list);
  }
  return byName;
}

import type { CounterSeries, RawServiceSeries } from '../../src/core/regression-series.js';
import { generateSeries, type ScenarioSpec } from './metric-scenarios.js';

// Generated scrapes of one pod: the service's series with a `pod` label, the counters of a pod
// born inside the span starting from zero as a new process's do.

export function podSeries(pod: string, spec: ScenarioSpec, born = false): RawServiceSeries {
  const s = generateSeries(spec);
  const each = <S extends CounterSeries>(list: readonly S[]): S[] =>
    list.map((c) => {
      const first = born ? (c.samples[0]?.[1] ?? 0) : 0;
      return { ...c, labels: { ...c.labels, pod }, samples: c.samples.map(([t, v]) => [t, v - first] as const) };
    });
  return { ...s, requests: each(s.requests), errors: each(s.errors), latency: each(s.latency) };
}

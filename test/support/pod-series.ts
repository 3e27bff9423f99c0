import type { CounterSeries, RawServiceSeries } from '../../src/core/regression-series.js';
import { generateSeries, type ScenarioSpec } from './metric-scenarios.js';

// Generated scrapes of one pod: the service's series with a `pod` label. A pod started at `bornAt`
// takes traffic from then on and is first scraped at the next scrape of the target (the spec's
// grid), its counters starting from zero, as a new process's do.

export function podSeries(pod: string, spec: ScenarioSpec, bornAt?: number): RawServiceSeries {
  const tick = bornAt === undefined ? spec.start : spec.start + Math.floor((bornAt - spec.start) / spec.stepMs) * spec.stepMs;
  const s = generateSeries(bornAt === undefined ? spec : { ...spec, start: tick, rate: (t) => (t < bornAt ? 0 : spec.rate(t)) });
  const each = <S extends CounterSeries>(list: readonly S[]): S[] =>
    list.map((c) => {
      const zero = bornAt === undefined ? 0 : (c.samples[0]?.[1] ?? 0);
      const samples = c.samples.filter(([t]) => bornAt === undefined || t > bornAt).map(([t, v]) => [t, v - zero] as const);
      return { ...c, labels: { ...c.labels, pod }, samples };
    });
  return { ...s, requests: each(s.requests), errors: each(s.errors), latency: each(s.latency) };
}

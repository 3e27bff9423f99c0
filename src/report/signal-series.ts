import type { Policy } from '../core/policy.js';
import { detectionGrid } from '../core/regression.js';
import { alignSeries, histogramQuantile, querySpan } from '../core/regression-series.js';
import type { MetricSource } from '../metrics/source.js';
import type { SeriesPoint } from './types.js';

// The two curves a report or a decision page draws for one service: the 5xx share and the p99
// latency per detection step, from the baseline before `deployStart` to `end`.

export async function signalSeries(
  source: MetricSource,
  q: { namespace: string; service: string; deployStart: number; end: number; policy: Policy },
): Promise<{ errorRate: SeriesPoint[]; latency: SeriesPoint[] }> {
  const grid = detectionGrid(q.deployStart, q.end, q.policy);
  const raw = await source.rangeQuery({ namespace: q.namespace, service: q.service, ...querySpan(grid) });
  const aligned = alignSeries(raw, grid);
  const errorRate: SeriesPoint[] = [];
  const latency: SeriesPoint[] = [];
  for (const iv of aligned.intervals) {
    if (iv.requests > 0) errorRate.push({ t: iv.end, v: iv.errors / iv.requests });
    const p99 = iv.latency ? histogramQuantile(0.99, aligned.bounds, iv.latency) : undefined;
    if (p99 !== undefined) latency.push({ t: iv.end, v: p99 });
  }
  return { errorRate, latency };
}

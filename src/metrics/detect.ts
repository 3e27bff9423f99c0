import type { Policy } from '../core/policy.js';
import { detectionGrid, detectRegression } from '../core/regression.js';
import { checkNeighbours, neighbourNames } from '../core/regression-neighbours.js';
import { querySpan } from '../core/regression-series.js';
import type { RawServiceSeries } from '../core/regression-series.js';
import type { Regression } from '../core/regression-types.js';
import type { MetricSource, RangeQuery } from './source.js';

// Fetches what detection needs from a source (the deployed service and its neighbours, over the
// baseline window up to `now` and nothing later) and runs the pure detector on it.

export interface DetectRequest {
  namespace: string;
  service: string;
  deployStart: number;
  now: number;
  policy: Policy;
}

export interface DetectResult {
  regression: Regression;
  neighbours: Regression[];
}

/** Neighbours are fetched a few at a time so one evaluation does not flood Prometheus. */
const CONCURRENCY = 4;

async function fetchAll(source: MetricSource, base: Omit<RangeQuery, 'service'>, services: readonly string[]): Promise<RawServiceSeries[]> {
  const out: RawServiceSeries[] = [];
  for (let i = 0; i < services.length; i += CONCURRENCY) {
    const batch = services.slice(i, i + CONCURRENCY).map((service) => source.rangeQuery({ ...base, service }));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

/** Detection for the deployed service and its neighbours as of `now`. Source errors propagate. */
export async function detectFromSource(source: MetricSource, req: DetectRequest): Promise<DetectResult> {
  const grid = detectionGrid(req.deployStart, req.now, req.policy);
  const base = { namespace: req.namespace, ...querySpan(grid) };
  const own = await source.rangeQuery({ ...base, service: req.service });
  const seen = req.policy.metrics.neighbours ? [] : await source.listServices(req.namespace, grid.start, grid.end);
  const others = await fetchAll(source, base, neighbourNames(seen, req.service, req.policy));
  const input = { deployStart: req.deployStart, now: req.now, policy: req.policy };
  return {
    regression: detectRegression({ series: own, ...input }),
    neighbours: checkNeighbours({ series: others, service: req.service, ...input }),
  };
}

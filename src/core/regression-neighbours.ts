import type { Policy } from './policy.js';
import { detectRegression } from './regression.js';
import type { RawServiceSeries } from './regression-series.js';
import type { Regression } from './regression-types.js';

// R2 evidence: the same detection over the other services of the namespace (or the policy's list),
// judged against the same deploy start and evaluation time, so the decision can say "B regressed,
// not A" or "everything regressed at once: likely not this deploy".

export interface NeighbourInput {
  /** Series of every neighbour to check (the deployed service's own series may be included). */
  series: readonly RawServiceSeries[];
  /** The deployed service, left out of the result. */
  service: string;
  deployStart: number;
  now: number;
  policy: Policy;
}

/** Which services to check: the policy's list when it has one, else every service seen, minus the deployed one. */
export function neighbourNames(seen: readonly string[], service: string, policy: Policy): string[] {
  const names = policy.metrics.neighbours ?? seen;
  return [...new Set(names)].filter((n) => n !== service).sort();
}

/** Detection over each neighbour, sorted by service name. */
export function checkNeighbours(input: NeighbourInput): Regression[] {
  return input.series
    .filter((s) => s.service !== input.service)
    .map((series) => detectRegression({ series, deployStart: input.deployStart, now: input.now, policy: input.policy }))
    .sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
}

import { describe, expect, it } from 'vitest';
import { fitMarginal, fitSlopes } from '../../bench/agent-report.js';
import type { TierResult } from '../../bench/agent-footprint.js';

// bench:agent's projections: through the empty cluster (fitSlopes) and with the intercept fitted
// over the non-empty tiers (fitMarginal), which leaves the one-off step to the first tier out of
// the per-object cost.

const tier = (deployments: number, config: number, rss: number): TierResult => ({ deployments, config, rssAfterSync: rss }) as TierResult;
const rss = (t: TierResult): number => t.rssAfterSync;

describe('bench:agent projections', () => {
  // 70 MB empty; a 20 MB step at the first objects; then 0.02 MB per Deployment and 0.002 per ConfigMap/Secret.
  const memory = (d: number, c: number): number => (d === 0 && c === 0 ? 70 : 90 + 0.02 * d + 0.002 * c);
  const tiers = [tier(0, 0, 70), ...[[1000, 0], [1000, 5000], [2000, 10_000], [4000, 20_000]].map(([d = 0, c = 0]) => tier(d, c, memory(d, c)))];

  it('fitMarginal recovers the per-object cost and the step, and projects what the model gives', () => {
    const fit = fitMarginal(tiers, rss);
    expect(fit.intercept).toBeCloseTo(90, 6);
    expect(fit.perDeployment).toBeCloseTo(0.02, 9);
    expect(fit.perConfig).toBeCloseTo(0.002, 9);
    expect(fit.predict(10_000, 50_000)).toBeCloseTo(memory(10_000, 50_000), 6);
  });

  it('fitSlopes, through the empty cluster, counts the step as per-object cost and projects higher', () => {
    expect(fitSlopes(tiers, rss).predict(10_000, 50_000)).toBeGreaterThan(fitMarginal(tiers, rss).predict(10_000, 50_000) + 10);
  });

  it('fitMarginal is least squares: one noisy tier moves the projection by less than its error', () => {
    const noisy = tiers.map((t, i) => (i === 2 ? tier(t.deployments, t.config, t.rssAfterSync + 6) : t));
    const moved = Math.abs(fitMarginal(noisy, rss).predict(4000, 20_000) - memory(4000, 20_000));
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(6);
  });

  it('refuses tiers that cannot separate the two costs', () => {
    expect(() => fitMarginal([tier(0, 0, 70), tier(1000, 0, 90), tier(2000, 0, 110), tier(3000, 0, 130)], rss)).toThrow(/independently/);
    expect(() => fitMarginal([tier(0, 0, 70), tier(1000, 0, 90), tier(1000, 5000, 100)], rss)).toThrow(/three non-empty tiers/);
  });
});

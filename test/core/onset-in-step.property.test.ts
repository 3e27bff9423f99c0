import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { judgeWindow } from '../../src/core/conditions/window.js';
import { locateOnsetInStep } from '../../src/core/onset-in-step.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import type { Policy } from '../../src/core/policy.js';
import { detectRegression } from '../../src/core/regression.js';
import { stepScrapes } from '../support/step-scrapes.js';

// F1 for the onset inside the deploy's step: whatever the traffic, the shares, the scrape interval
// and where the deploy falls inside it, a regression that began before the deploy start is never
// placed after it, and R1 is never met for it. Scrapes here carry binomial noise only; how often
// extra-binomial noise gets past the test is measured in bench:detect (fast-failure cases).

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);

const scenario = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  rate: fc.constantFrom(2, 20, 60, 200, 1000),
  p0: fc.constantFrom(0, 0.003, 0.02),
  p1: fc.constantFrom(0.05, 0.1, 0.3, 0.8),
  scrapeMs: fc.constantFrom(10_000, 15_000, 30_000),
  /** Where the deploy falls inside its scrape interval, and how far before it the errors began (both as fractions of the interval). */
  deployAt: fc.double({ min: 0.01, max: 0.99, noNaN: true }),
  before: fc.double({ min: 0.01, max: 1.5, noNaN: true }),
  evaluateAfterMin: fc.integer({ min: 1, max: 8 }),
  /** Where the scrapes fall against the detector's grid, as a fraction of the interval (real targets are not aligned to it). */
  scrapePhase: fc.double({ min: 0, max: 0.99, noNaN: true }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario) {
  const first = T0 - 40 * MIN + Math.round(s.scrapePhase * s.scrapeMs);
  const deployStart = first + 40 * MIN + Math.round(s.deployAt * s.scrapeMs);
  const onset = deployStart - Math.max(1, Math.round(s.before * s.scrapeMs));
  const series = stepScrapes({ seed: s.seed, scrapeMs: s.scrapeMs, first, end: T0 + 10 * MIN, rate: s.rate, p0: s.p0, p1: s.p1, onset });
  const policy: Policy = { ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, stepMs: s.scrapeMs } };
  return { series, deployStart, now: deployStart + s.evaluateAfterMin * MIN, policy };
}

describe('R1 F1 an onset before the deploy start inside its scrape interval', () => {
  it('is never placed after the deploy start', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { series, deployStart, now, policy } = build(s);
        const located = locateOnsetInStep({ series, deployStart, now, significance: policy.thresholds.significance });
        expect(located.verdict).not.toBe('after');
      }),
      { numRuns: 300, seed: 1506 },
    );
  });

  it('never meets R1, through the detector reading the scrapes', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { series, deployStart, now, policy } = build(s);
        const regression = detectRegression({ series, scraped: series, deployStart, now, policy });
        const window = judgeWindow({ namespace: 'shop', name: 'checkout', start: deployStart, rollout: { state: 'progressing' }, before: undefined, after: undefined }, regression, 15 * MIN);
        expect(window.status, window.evidence).not.toBe('met');
      }),
      { numRuns: 400, seed: 1507 },
    );
  });
});

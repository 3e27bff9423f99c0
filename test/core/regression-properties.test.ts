import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import type { Policy } from '../../src/core/policy.js';
import { detectRegression, requiredPersistence } from '../../src/core/regression.js';
import { generateSeries, step } from '../support/metric-scenarios.js';

// Properties of detection over random scenarios: what it reports is internally consistent with R5,
// it never reads past `now` (R1 without hindsight), and stricter thresholds never add a regression.

const STEP = 30_000;
const MIN = 60_000;
const DEPLOY = Date.UTC(2026, 2, 2, 10, 0, 13);

const scenario = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  rate: fc.constantFrom(0.1, 1, 5, 50, 500),
  base: fc.constantFrom(0, 0.002, 0.01, 0.03),
  jump: fc.constantFrom(0, 0, 0.01, 0.05, 0.3),
  onsetMin: fc.integer({ min: -20, max: 15 }),
  noise: fc.constantFrom(0, 0.4),
  nowMin: fc.integer({ min: 1, max: 20 }),
  gap: fc.boolean(),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario, end: number) {
  const onset = DEPLOY + s.onsetMin * MIN;
  return generateSeries({
    seed: s.seed,
    stepMs: STEP,
    start: DEPLOY - 40 * MIN,
    end,
    rate: () => s.rate,
    errorShare: step(onset, s.base, s.base + s.jump),
    noise: s.noise,
    latencyMedian: () => 0.05,
    gaps: s.gap ? [[DEPLOY + 2 * MIN, DEPLOY + 4 * MIN]] : [],
  });
}

const policy: Policy = { ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, stepMs: STEP } };

describe('R5 what detection reports is consistent', () => {
  it('a signal implies enough data, an onset before now and a persisted breach; evidence is in range', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const now = DEPLOY + s.nowMin * MIN;
        const r = detectRegression({ series: build(s, now), deployStart: DEPLOY, now, policy });
        const e = r.errorRate;
        expect(e).toBeDefined();
        if (!e) return;
        for (const x of [e.baseline, e.current, e.pValue]) expect(x >= 0 && x <= 1).toBe(true);
        if (r.signal !== undefined) {
          expect(r.data).toBe('ok');
          expect(r.onset).toBeLessThan(now);
          expect(r.onsetUncertaintyMs).toBeGreaterThanOrEqual(STEP / 2);
        }
        if (r.signal === 'error-rate' || r.signal === 'both') {
          expect(e.persisted).toBeGreaterThanOrEqual(requiredPersistence(policy));
          expect(e.current).toBeGreaterThan(policy.thresholds.errorRate);
          expect(e.pValue).toBeLessThan(policy.thresholds.significance);
          expect(e.currentRequests).toBeGreaterThanOrEqual(policy.thresholds.minRequests);
        }
        if (r.data === 'low-traffic') expect(r.signal).toBeUndefined();
      }),
      { numRuns: 60, seed: 4242 },
    );
  });
});

describe('R1 no hindsight', () => {
  it('samples after now never change the result', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const now = DEPLOY + s.nowMin * MIN;
        const truncated = detectRegression({ series: build(s, now), deployStart: DEPLOY, now, policy });
        const withFuture = detectRegression({ series: build(s, now + 15 * MIN), deployStart: DEPLOY, now, policy });
        expect(withFuture).toEqual(truncated);
      }),
      { numRuns: 30, seed: 777 },
    );
  });
});

describe('R5 stricter thresholds never add a regression', () => {
  it('raising the error-rate threshold, the minimum of requests or the persistence only removes error-rate signals', () => {
    const stricter: Policy = { ...policy, thresholds: { ...policy.thresholds, errorRate: 0.05, minRequests: 400, persistence: { evaluations: 5 } } };
    fc.assert(
      fc.property(scenario, (s) => {
        const now = DEPLOY + s.nowMin * MIN;
        const series = build(s, now);
        const strict = detectRegression({ series, deployStart: DEPLOY, now, policy: stricter });
        const lenient = detectRegression({ series, deployStart: DEPLOY, now, policy });
        const errorSignal = (sig: string | undefined) => sig === 'error-rate' || sig === 'both';
        if (errorSignal(strict.signal)) expect(errorSignal(lenient.signal)).toBe(true);
      }),
      { numRuns: 40, seed: 99 },
    );
  });
});

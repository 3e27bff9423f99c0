import { describe, expect, it } from 'vitest';
import { judgeCleanSignal } from '../../src/core/conditions/clean-signal.js';
import { judgeWindow } from '../../src/core/conditions/window.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import type { Policy } from '../../src/core/policy.js';
import { detectRegression, requiredPersistence } from '../../src/core/regression.js';
import { checkNeighbours, neighbourNames } from '../../src/core/regression-neighbours.js';
import { firstDetection } from '../../src/core/regression-scan.js';
import type { RawServiceSeries } from '../../src/core/regression-series.js';
import type { Regression } from '../../src/core/regression-types.js';
import { diurnal, generateSeries, ramp, spike, step } from '../support/metric-scenarios.js';
import type { ScenarioSpec } from '../support/metric-scenarios.js';

// Detection on generated series (seeded, so every run sees the same scrapes). Each scenario is
// evaluated as the agent would: every scrape interval after the deploy, seeing only the past.

const STEP = 30_000;
const MIN = 60_000;
const DEPLOY = Date.UTC(2026, 2, 2, 10, 0, 13);
const policy: Policy = { ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, stepMs: STEP } };

function series(overrides: Partial<ScenarioSpec> & { seed: number }): RawServiceSeries {
  return generateSeries({
    stepMs: STEP,
    start: DEPLOY - 40 * MIN,
    end: DEPLOY + 25 * MIN,
    rate: () => 20,
    errorShare: () => 0.005,
    latencyMedian: () => 0.05,
    ...overrides,
  });
}

/** The first evaluation (every scrape interval after the deploy, up to `until`) that reports a signal. */
function firstSignal(s: RawServiceSeries, p: Policy = policy, until = DEPLOY + 25 * MIN): { at: number; r: Regression } | undefined {
  const found = firstDetection({ series: s, deployStart: DEPLOY, policy: p }, until);
  return found ? { at: found.at, r: found.regression } : undefined;
}

const onsetAt = DEPLOY + 3 * MIN + 7_000;

describe('R5 clean signal: error-rate regressions on counts', () => {
  it.each([
    { name: 'a 5pp step at 1 req/s', rate: 1, before: 0.005, after: 0.055 },
    { name: 'a 5pp step at 20 req/s', rate: 20, before: 0.005, after: 0.055 },
    { name: 'a 30pp step at 500 req/s', rate: 500, before: 0.001, after: 0.3 },
    { name: 'a 10pp step on a zero-error baseline', rate: 5, before: 0, after: 0.1 },
  ])('$name is detected as a clean error-rate signal with its onset within one scrape', ({ rate, before, after }) => {
    const found = firstSignal(series({ seed: 1, rate: () => rate, errorShare: step(onsetAt, before, after) }));
    expect(found).toBeDefined();
    const r = found?.r;
    expect(r?.signal).toBe('error-rate');
    expect(r?.data).toBe('ok');
    expect(Math.abs((r?.onset ?? 0) - onsetAt)).toBeLessThanOrEqual(STEP);
    expect(r?.onsetUncertaintyMs).toBeGreaterThanOrEqual(STEP / 2);
    if (r) expect(judgeCleanSignal(r, policy).status).toBe('met');
    expect(r?.errorRate?.current).toBeGreaterThan(policy.thresholds.errorRate);
    expect(r?.errorRate?.pValue).toBeLessThan(policy.thresholds.significance);
    expect(r?.errorRate?.currentRequests).toBeGreaterThanOrEqual(policy.thresholds.minRequests);
    expect(found?.at).toBeGreaterThan(onsetAt);
  });

  it('a significant rise that stays below the 2% threshold is not a regression', () => {
    expect(firstSignal(series({ seed: 2, rate: () => 500, errorShare: step(onsetAt, 0.002, 0.012) }))).toBeUndefined();
  });

  it('a rise above the threshold that is not significant against a noisy high baseline is not a regression', () => {
    expect(firstSignal(series({ seed: 3, rate: () => 2, errorShare: () => 0.03, noise: 0.3 }))).toBeUndefined();
  });

  it('a ramp is detected, its onset near where it left the baseline', () => {
    const found = firstSignal(series({ seed: 4, errorShare: ramp(onsetAt, onsetAt + 5 * MIN, 0.005, 0.1) }));
    expect(found?.r.signal).toBe('error-rate');
    expect(found?.r.onset).toBeGreaterThanOrEqual(onsetAt - STEP);
    expect(found?.r.onset).toBeLessThan(onsetAt + 3 * MIN);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('diurnal traffic without an error change never fires (seed %i)', (seed) => {
    expect(firstSignal(series({ seed, rate: diurnal(50, 0.7, DEPLOY - 3 * 3_600_000) }))).toBeUndefined();
  });

  it.each([1, 2, 3, 4, 5, 6])('extra-binomial noise on a steady share never fires (seed %i)', (seed) => {
    expect(firstSignal(series({ seed, rate: () => 200, errorShare: () => 0.01, noise: 0.6 }))).toBeUndefined();
  });
});

describe('R5 one noisy sample is not a regression: persistence', () => {
  it.each([
    { name: 'a one-scrape burst', length: STEP },
    { name: 'a cold-start burst of a minute at rollout', length: 2 * STEP },
  ])('$name never becomes a regression', ({ length }) => {
    for (const level of [0.1, 0.3, 0.6]) {
      for (const rate of [2, 20, 200]) {
        const from = DEPLOY + 40_000;
        expect(firstSignal(series({ seed: rate, rate: () => rate, errorShare: spike(from, from + length, 0.005, level) }))).toBeUndefined();
      }
    }
  });

  it('a duration means the same time at any metric step: 90s is 3 evaluations at 30s and 6 at 15s', () => {
    const at = (stepMs: number, persistence: Policy['thresholds']['persistence']): Policy => ({ ...policy, thresholds: { ...policy.thresholds, persistence }, metrics: { ...policy.metrics, stepMs } });
    expect(DEFAULT_POLICY.thresholds.persistence).toEqual({ durationMs: 90_000 });
    expect(requiredPersistence(at(30_000, { durationMs: 90_000 }))).toBe(3);
    expect(requiredPersistence(at(15_000, { durationMs: 90_000 }))).toBe(6);
    expect(requiredPersistence(at(60_000, { durationMs: 90_000 }))).toBe(2);
    expect(requiredPersistence(at(15_000, { evaluations: 3 }))).toBe(3);
    // At a 15 s step, a one-minute burst spans 4 intervals: a count of 3 lets it through, 90 s does not.
    const STEP15 = 15_000;
    const from = DEPLOY + 40_000;
    const burst = generateSeries({ stepMs: STEP15, start: DEPLOY - 40 * MIN, end: DEPLOY + 25 * MIN, rate: () => 200, errorShare: spike(from, from + 4 * STEP15, 0.005, 0.6), latencyMedian: () => 0.05, seed: 7 });
    const scan = (p: Policy) => firstDetection({ series: burst, deployStart: DEPLOY, policy: p }, DEPLOY + 25 * MIN);
    expect(scan(at(STEP15, { evaluations: 3 }))?.regression.signal).toBe('error-rate');
    expect(scan(at(STEP15, { durationMs: 90_000 }))).toBeUndefined();
  });

  it('a breach not yet persistent is unmet, saying how long the policy asks for', () => {
    const regression: Regression = {
      service: 'checkout',
      namespace: 'shop',
      signal: 'error-rate',
      data: 'ok',
      onset: DEPLOY,
      errorRate: { baseline: 0.005, current: 0.1, baselineRequests: 5000, currentRequests: 600, pValue: 1e-12, persisted: 2 },
    };
    expect(judgeCleanSignal(regression, policy)).toEqual({
      status: 'unmet',
      evidence: '5xx share 0.50% → 10.0% over 600 requests: seen in 2 of 3 consecutive evaluations (persistence 1m30s (3 evaluations at a 30s step)), not yet persistent',
    });
    const persisted: Regression = { ...regression, errorRate: { baseline: 0.005, current: 0.1, baselineRequests: 5000, currentRequests: 600, pValue: 1e-12, persisted: 3 } };
    expect(judgeCleanSignal(persisted, policy).status).toBe('met');
  });

  it('the first report comes after exactly `persistence` breaching evaluations, later for a stricter policy', () => {
    const s = series({ seed: 5, errorShare: step(onsetAt, 0.005, 0.1) });
    const first = firstSignal(s);
    expect(first?.r.errorRate?.persisted).toBe(3);
    const strict: Policy = { ...policy, thresholds: { ...policy.thresholds, persistence: { evaluations: 6 } } };
    const later = firstSignal(s, strict);
    expect(later?.r.errorRate?.persisted).toBe(6);
    expect((later?.at ?? 0) - (first?.at ?? 0)).toBe(3 * STEP);
    // Just before the first report the breach was seen, but not often enough.
    const before = detectRegression({ series: s, deployStart: DEPLOY, now: (first?.at ?? 0) - STEP, policy });
    expect(before.signal).toBeUndefined();
    expect(before.errorRate?.persisted).toBe(2);
    if (first) expect(judgeCleanSignal(first.r, policy).status).toBe('met');
  });

  it('a burst that ended is no longer reported, even after it had persisted', () => {
    const from = DEPLOY + 2 * MIN;
    const s = series({ seed: 6, errorShare: spike(from, from + 6 * MIN, 0.005, 0.2) });
    expect(detectRegression({ series: s, deployStart: DEPLOY, now: from + 5 * MIN, policy }).signal).toBe('error-rate');
    expect(detectRegression({ series: s, deployStart: DEPLOY, now: from + 10 * MIN, policy }).signal).toBeUndefined();
  });
});

describe('R5 no data and too little traffic', () => {
  it('no series at all is no-data, never a regression', () => {
    const r = detectRegression({ series: { namespace: 'shop', service: 'checkout', requests: [], errors: [], latency: [] }, deployStart: DEPLOY, now: DEPLOY + 10 * MIN, policy });
    expect(r).toEqual({ namespace: 'shop', service: 'checkout', signal: undefined, data: 'no-data', onset: undefined });
    expect(judgeCleanSignal(r, policy).status).toBe('unknown');
  });

  it('series that ended before the window are no-data', () => {
    const s = series({ seed: 7, end: DEPLOY - 50 * MIN + 10 * MIN, start: DEPLOY - 50 * MIN });
    expect(detectRegression({ series: s, deployStart: DEPLOY, now: DEPLOY + 10 * MIN, policy }).data).toBe('no-data');
  });

  it('a large jump at 0.05 req/s is low-traffic: not a regression, not a clean signal', () => {
    const s = series({ seed: 8, rate: () => 0.05, errorShare: step(onsetAt, 0.005, 0.5) });
    for (const minutes of [5, 10, 20]) {
      const r = detectRegression({ series: s, deployStart: DEPLOY, now: DEPLOY + minutes * MIN, policy });
      expect(r.data).toBe('low-traffic');
      expect(r.signal).toBeUndefined();
      expect(r.errorRate?.currentRequests).toBeLessThan(policy.thresholds.minRequests);
    }
  });

  it('the minimum is the policy\'s: the same series is too little traffic for a stricter policy', () => {
    const s = series({ seed: 8, rate: () => 0.2, errorShare: step(onsetAt, 0.005, 0.6) });
    const strict: Policy = { ...policy, thresholds: { ...policy.thresholds, minRequests: 1000 } };
    expect(firstSignal(s)?.r.signal).toBe('error-rate');
    expect(firstSignal(s, strict)).toBeUndefined();
    expect(detectRegression({ series: s, deployStart: DEPLOY, now: DEPLOY + 25 * MIN, policy: strict }).data).toBe('low-traffic');
  });
});

describe('R5 gaps and counter resets', () => {
  it.each([
    { name: 'missed scrapes around the onset', gaps: [[onsetAt - MIN, onsetAt + MIN]] as [number, number][], resets: [] },
    { name: 'a counter reset after the onset', gaps: [], resets: [onsetAt + 2 * MIN] },
    { name: 'a reset and a gap before the deploy', gaps: [[DEPLOY - 15 * MIN, DEPLOY - 13 * MIN]] as [number, number][], resets: [DEPLOY - 5 * MIN] },
  ])('$name: the regression is still found, onset within two scrapes', ({ gaps, resets }) => {
    const found = firstSignal(series({ seed: 9, errorShare: step(onsetAt, 0.005, 0.08), gaps, resets }));
    expect(found?.r.signal).toBe('error-rate');
    expect(Math.abs((found?.r.onset ?? 0) - onsetAt)).toBeLessThanOrEqual(2 * STEP + MIN);
  });

  it.each([1, 2, 3, 4])('resets and gaps on a healthy service never fire (seed %i)', (seed) => {
    const s = series({ seed, resets: [DEPLOY + 2 * MIN, DEPLOY + 9 * MIN], gaps: [[DEPLOY + 4 * MIN, DEPLOY + 6 * MIN]] });
    expect(firstSignal(s)).toBeUndefined();
  });
});

describe('R1 onset: a regression that predates the deploy is reported before it', () => {
  it('an error rise 12 minutes before the deploy has its onset there, and R1 sees it predates the deploy', () => {
    const before = DEPLOY - 12 * MIN - 11_000;
    const found = firstSignal(series({ seed: 10, errorShare: step(before, 0.005, 0.1) }));
    expect(found?.r.signal).toBe('error-rate');
    expect(Math.abs((found?.r.onset ?? 0) - before)).toBeLessThanOrEqual(STEP);
    expect(found?.r.errorRate?.baselineRequests).toBeGreaterThan(0);
    if (found) {
      const window = judgeWindow(
        { namespace: 'shop', name: 'checkout', start: DEPLOY, rollout: { state: 'complete', at: DEPLOY + 2 * MIN }, before: undefined, after: undefined },
        found.r,
        policy.onsetWindowMs,
      );
      expect(window.status).toBe('unmet');
    }
  });

  it('the onset uncertainty widens at low traffic', () => {
    const total = (rate: number) =>
      [1, 2, 3, 4, 5].reduce((sum, seed) => sum + (firstSignal(series({ seed, rate: () => rate, errorShare: step(onsetAt, 0.005, 0.06) }))?.r.onsetUncertaintyMs ?? 0), 0);
    expect(total(1)).toBeGreaterThan(total(500));
    expect(total(500)).toBe(5 * (STEP / 2));
  });
});

describe('R5 latency alone asks a human', () => {
  it('p99 tripling without an error rise is a latency signal, not a clean one', () => {
    const found = firstSignal(series({ seed: 12, latencyMedian: (t) => (t < onsetAt ? 0.05 : 0.15) }));
    expect(found?.r.signal).toBe('latency');
    expect(found?.r.latency?.currentP99).toBeGreaterThan((found?.r.latency?.baselineP99 ?? Infinity) * policy.thresholds.latencyRatio);
    expect(Math.abs((found?.r.onset ?? 0) - onsetAt)).toBeLessThanOrEqual(STEP);
    if (found) expect(judgeCleanSignal(found.r, policy).status).toBe('unmet');
  });

  it('a 20% slowdown stays below the latency ratio', () => {
    expect(firstSignal(series({ seed: 13, rate: () => 200, latencyMedian: (t) => (t < onsetAt ? 0.05 : 0.06) }))).toBeUndefined();
  });

  it('errors and latency together are reported as both', () => {
    const s = series({ seed: 14, errorShare: step(onsetAt, 0.005, 0.1), latencyMedian: (t) => (t < onsetAt ? 0.05 : 0.2) });
    const r = detectRegression({ series: s, deployStart: DEPLOY, now: onsetAt + 10 * MIN, policy });
    expect(r.signal).toBe('both');
  });

  it('a service without a histogram is judged on errors alone', () => {
    const s = series({ seed: 15, errorShare: step(onsetAt, 0.005, 0.1), latencyMedian: undefined });
    const r = detectRegression({ series: s, deployStart: DEPLOY, now: onsetAt + 10 * MIN, policy });
    expect(r.signal).toBe('error-rate');
    expect(r.latency).toBeUndefined();
  });
});

describe('R1 no hindsight: detection at `now` reads nothing later', () => {
  it('firstDetection reports the first step with a signal, and that step alone reproduces it', () => {
    const s = series({ seed: 20, errorShare: step(onsetAt, 0.005, 0.1) });
    const found = firstDetection({ series: s, deployStart: DEPLOY, policy }, DEPLOY + 25 * MIN);
    expect(found?.at).toBeGreaterThan(onsetAt);
    expect((found?.at ?? 0) % STEP).toBe(0);
    expect(detectRegression({ series: s, deployStart: DEPLOY, now: found?.at ?? 0, policy })).toEqual(found?.regression);
    expect(detectRegression({ series: s, deployStart: DEPLOY, now: (found?.at ?? 0) - STEP, policy }).signal).toBeUndefined();
    expect(firstDetection({ series: s, deployStart: DEPLOY, policy }, onsetAt)).toBeUndefined();
  });

  it('samples after now do not change the result', () => {
    const now = onsetAt + 4 * MIN;
    const past = series({ seed: 16, errorShare: step(onsetAt, 0.005, 0.08), end: now });
    const withFuture = series({ seed: 16, errorShare: (t) => (t <= now ? step(onsetAt, 0.005, 0.08)(t) : 0.9), end: now + 20 * MIN });
    expect(detectRegression({ series: withFuture, deployStart: DEPLOY, now, policy })).toEqual(detectRegression({ series: past, deployStart: DEPLOY, now, policy }));
  });
});

describe('R2 neighbours', () => {
  const a = series({ seed: 17, service: 'checkout' });
  const b = series({ seed: 18, service: 'cart', errorShare: step(onsetAt, 0.005, 0.1) });
  const c = series({ seed: 19, service: 'payments' });

  it('checks every other service, so the decision can say "cart regressed, not checkout"', () => {
    const now = onsetAt + 10 * MIN;
    const own = detectRegression({ series: a, deployStart: DEPLOY, now, policy });
    const neighbours = checkNeighbours({ series: [c, a, b], service: 'checkout', deployStart: DEPLOY, now, policy });
    expect(own.signal).toBeUndefined();
    expect(neighbours.map((n) => [n.service, n.signal])).toEqual([
      ['cart', 'error-rate'],
      ['payments', undefined],
    ]);
  });

  it('the policy list, when set, names the neighbours; otherwise every service seen except the deployed one', () => {
    expect(neighbourNames(['cart', 'checkout', 'payments', 'cart'], 'checkout', policy)).toEqual(['cart', 'payments']);
    const listed: Policy = { ...policy, metrics: { ...policy.metrics, neighbours: ['search', 'checkout'] } };
    expect(neighbourNames(['cart', 'payments'], 'checkout', listed)).toEqual(['search']);
  });
});

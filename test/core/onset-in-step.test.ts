import { describe, expect, it } from 'vitest';
import { judgeWindow } from '../../src/core/conditions/window.js';
import type { Deploy } from '../../src/core/decision-types.js';
import { locateOnsetInStep, onsetNeedsScrapes } from '../../src/core/onset-in-step.js';
import type { InStepVerdict } from '../../src/core/onset-in-step.js';
import type { Regression } from '../../src/core/regression-types.js';
import { scrapeSpans } from '../../src/core/scrape-spans.js';
import { generateSeries, ramp } from '../support/metric-scenarios.js';
import { stepScrapes } from '../support/step-scrapes.js';

// R1 for an onset inside the scrape interval that holds the deploy start: its counts against the
// shares before and after place the onset after the deploy start, before it, or nowhere (F1).

const S = 1000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);

interface Row {
  name: string;
  rate: number;
  p0: number;
  p1: number;
  scrapeMs: number;
  /** Deploy start and onset, from T0 (a scrape). */
  deploy: number;
  onset: number;
  verdict: InStepVerdict;
  /** Evaluation time after the deploy start (default 3 min). */
  after?: number;
  /** A word the evidence must carry. */
  says?: string;
}

const rows: Row[] = [
  { name: "the issue's fast failure: deploy at :05, 5xx from :11 at 12%, 60 req/s, 15 s scrapes", rate: 60, p0: 0.002, p1: 0.12, scrapeMs: 15 * S, deploy: 5 * S, onset: 11 * S, verdict: 'after' },
  { name: 'the errors show only in the next scrape: deploy at :25, 5xx from :29, 200 req/s', rate: 200, p0: 0.002, p1: 0.2, scrapeMs: 30 * S, deploy: 25 * S, onset: 29 * S, verdict: 'after' },
  { name: '3 s after the deploy at 1000 req/s, +10pp, 30 s scrapes', rate: 1000, p0: 0.005, p1: 0.105, scrapeMs: 30 * S, deploy: 10 * S, onset: 13 * S, verdict: 'after' },
  { name: 'seconds-long scrapes: 1 s scrapes, 100 req/s, errors from 2.5 s after the deploy (a run of scrapes after it)', rate: 100, p0: 0.002, p1: 0.2, scrapeMs: S, deploy: 300, onset: 2800, verdict: 'after', says: 'scrape intervals' },
  { name: '5xx from :02, deploy at :12, 60 req/s, 15 s scrapes', rate: 60, p0: 0.002, p1: 0.12, scrapeMs: 15 * S, deploy: 12 * S, onset: 2 * S, verdict: 'before', says: 'predates the deploy' },
  { name: '15 s before the deploy at 1000 req/s, 30 s scrapes', rate: 1000, p0: 0.005, p1: 0.105, scrapeMs: 30 * S, deploy: 20 * S, onset: 5 * S, verdict: 'before' },
  { name: 'low traffic: 2 req/s', rate: 2, p0: 0.002, p1: 0.12, scrapeMs: 15 * S, deploy: 5 * S, onset: 11 * S, verdict: 'undetermined', says: 'too few' },
  { name: '3 s after the deploy at 20 req/s, +10pp, 30 s scrapes: too few errors in 3 s', rate: 20, p0: 0.002, p1: 0.1, scrapeMs: 30 * S, deploy: 10 * S, onset: 13 * S, verdict: 'undetermined' },
  { name: '2 s before the deploy at 20 req/s', rate: 20, p0: 0.002, p1: 0.1, scrapeMs: 30 * S, deploy: 10 * S, onset: 8 * S, verdict: 'undetermined' },
  { name: 'no scrape after the deploy yet shows the elevated share', rate: 1000, p0: 0.005, p1: 0.105, scrapeMs: 30 * S, deploy: 10 * S, onset: 13 * S, verdict: 'undetermined', after: 25 * S, says: 'too few scrapes after it' },
];

function located(row: Row) {
  const series = stepScrapes({ seed: 1, scrapeMs: row.scrapeMs, first: T0 - 40 * MIN, end: T0 + 10 * MIN, rate: row.rate, p0: row.p0, p1: row.p1, onset: T0 + row.onset });
  return locateOnsetInStep({ series, deployStart: T0 + row.deploy, now: T0 + row.deploy + (row.after ?? 3 * MIN), significance: 0.001 });
}

describe('R1 F1 an onset inside the scrape interval that holds the deploy start', () => {
  it.each(rows)('R1 $name: $verdict', (row) => {
    const result = located(row);
    expect(result.verdict, result.evidence).toBe(row.verdict);
    if (row.says !== undefined) expect(result.evidence).toContain(row.says);
    if (result.verdict === 'after') {
      expect(result.onset).toBeGreaterThanOrEqual(T0 + row.deploy);
      expect(result.pValue).toBeLessThan(0.001);
    }
    if (result.verdict === 'before') expect(result.onset).toBeLessThan(T0 + row.deploy);
  });

  it('R1 the evidence names the interval, the deploy start, the counts, the shares and the p-value', () => {
    const result = located(rows[0] as Row);
    expect(result.evidence).toMatch(
      /^5xx began inside the scrape interval 2026-03-02T09:00:00Z–2026-03-02T09:00:15Z that holds the deploy start \(2026-03-02T09:00:05Z\): \d+ errors in \d+ requests there, against \d+ had they begun at the deploy start \(0\.\d+% before, 1\d\.\d% after\), with how much the share varies from scrape to scrape judged from the \d+ scrapes after it alone \(too few errors before it to show\); the counts place the onset about \d+s after the deploy start, so it follows the deploy \(p = \d\.\de-\d+\)$/,
    );
  });

  it('R1 the placed onset follows the true one: later errors place it later', () => {
    const at = (onset: number) => located({ ...(rows[2] as Row), onset }).onset ?? 0;
    expect(at(16 * S)).toBeGreaterThan(at(13 * S));
    expect(Math.abs(at(16 * S) - (T0 + 16 * S))).toBeLessThan(3 * S);
  });

  it('F1 a share still rising after the deploy start is a ramp whose start cannot be told from a later step', () => {
    const series = generateSeries({ seed: 3, stepMs: 15 * S, start: T0 - 40 * MIN, end: T0 + 10 * MIN, rate: () => 500, errorShare: ramp(T0 - 10 * S, T0 + 3 * MIN, 0.002, 0.2) });
    const result = locateOnsetInStep({ series, deployStart: T0 + 5 * S, now: T0 + 2 * MIN, significance: 0.001 });
    expect(result.verdict).toBe('undetermined');
    expect(result.evidence).toContain('still rising');
  });

  it.each([0, 3, 7, 11, 15, 19, 23, 27])(
    'R1 a clean step two scrape intervals after the deploy start (30 s scrapes, deploy %i s into its interval) is placed after it: the one partly elevated interval that holds the step is no ramp',
    (into) => {
      const deployStart = T0 + into * S + 500;
      const series = stepScrapes({ seed: into + 1, scrapeMs: 30 * S, first: T0 - 40 * MIN, end: T0 + 10 * MIN, rate: 100, p0: 0.002, p1: 0.2, onset: deployStart + 60 * S });
      const result = locateOnsetInStep({ series, deployStart, now: deployStart + 5 * MIN, significance: 0.001 });
      expect(result.verdict, result.evidence).toBe('after');
    },
  );

  it('F1 a ramp that began before the deploy and still rises after the first clearly elevated interval stays undetermined', () => {
    const series = generateSeries({ seed: 5, stepMs: 30 * S, start: T0 - 40 * MIN, end: T0 + 10 * MIN, rate: () => 300, errorShare: ramp(T0 - 5 * S, T0 + 4 * MIN, 0.002, 0.3) });
    const result = locateOnsetInStep({ series, deployStart: T0 + 10 * S, now: T0 + 3 * MIN, significance: 0.001 });
    expect(result.verdict, result.evidence).toBe('undetermined');
  });

  it('F1 scrape-to-scrape noise that the few scrapes after the deploy cannot show is read from the many before it: an onset just before the deploy is never placed after it', () => {
    const verdicts = Array.from({ length: 30 }, (_, i) => i + 1).map((seed) => {
      const series = stepScrapes({ seed, scrapeMs: 30 * S, first: T0 - 40 * MIN, end: T0 + 10 * MIN, rate: 1000, p0: 0.01, p1: 0.2, onset: T0 + 9_900, noise: 0.3 });
      return locateOnsetInStep({ series, deployStart: T0 + 10 * S, now: T0 + 10 * S + 2 * MIN, significance: 0.001 }).verdict;
    });
    expect(verdicts).not.toContain('after');
  });

  it('F1 a quiet baseline (a handful of errors a scrape) cannot show the scrapes\' noise: an onset just before the deploy is never placed after it on the binomial alone, at any later evaluation', () => {
    const placed: string[] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const series = stepScrapes({ seed, scrapeMs: 30 * S, first: T0 - 40 * MIN, end: T0 + 12 * MIN, rate: seed % 2 === 0 ? 1000 : 100, p0: 0, p1: 0.2, onset: T0 + 10 * S - 300, noise: 0.3 });
      for (const after of [2, 4, 8]) {
        const result = locateOnsetInStep({ series, deployStart: T0 + 10 * S, now: T0 + 10 * S + after * MIN, significance: 0.001 });
        if (result.verdict === 'after') placed.push(`seed ${String(seed)} at +${String(after)} min: ${result.evidence}`);
      }
    }
    expect(placed).toEqual([]);
  });

  it('F1 nothing scraped after `now` is read', () => {
    const series = stepScrapes({ seed: 1, scrapeMs: 15 * S, first: T0 - 40 * MIN, end: T0 + 10 * MIN, rate: 60, p0: 0.002, p1: 0.12, onset: T0 + 11 * S });
    const cut = { ...series, requests: series.requests.map((s) => ({ ...s, samples: s.samples.filter(([ts]) => ts <= T0 + 2 * MIN) })), errors: series.errors.map((s) => ({ ...s, samples: s.samples.filter(([ts]) => ts <= T0 + 2 * MIN) })) };
    const input = { deployStart: T0 + 5 * S, now: T0 + 2 * MIN, significance: 0.001 };
    expect(locateOnsetInStep({ ...input, series })).toEqual(locateOnsetInStep({ ...input, series: cut }));
  });
});

describe('scrape spans', () => {
  it("a counter born between scrapes (a status code's first response) counts from zero over its target's span", () => {
    const labels = { namespace: 'shop', service: 'checkout' };
    const ok = { labels: { ...labels, code: '200' }, samples: [[0, 100], [15_000, 190], [30_000, 280]] as [number, number][] };
    const failed = { labels: { ...labels, code: '500' }, samples: [[30_000, 12]] as [number, number][] };
    const spans = scrapeSpans({ ...labels, requests: [ok, failed], errors: [failed], latency: [] }, 30_000);
    expect(spans).toEqual([
      { from: 0, to: 15_000, requests: 90, errors: 0 },
      { from: 15_000, to: 30_000, requests: 102, errors: 12 },
    ]);
  });
});

describe('R1 judging the window with a placed onset', () => {
  const deploy: Deploy = { namespace: 'shop', name: 'checkout', start: T0 + 5 * S, rollout: { state: 'progressing' }, before: undefined, after: undefined };
  const regression = (onsetInStep: Regression['onsetInStep']): Regression => ({
    service: 'checkout',
    namespace: 'shop',
    signal: 'error-rate',
    data: 'ok',
    onset: T0,
    onsetUncertaintyMs: 15 * S,
    ...(onsetInStep ? { onsetInStep } : {}),
  });

  it('R1 without scrapes an onset in the step holding the deploy start stays unknown', () => {
    expect(judgeWindow(deploy, regression(undefined), 15 * MIN).status).toBe('unknown');
  });

  it('R1 placed after the deploy start: met, with the placement as evidence', () => {
    const c = judgeWindow(deploy, regression({ verdict: 'after', onset: T0 + 11 * S, pValue: 1e-6, evidence: 'placed after' }), 15 * MIN);
    expect(c.status).toBe('met');
    expect(c.evidence).toMatch(/^placed after; the regression began at 2026-03-02T09:00:11Z, 6s after the deploy started/);
  });

  it('R1 placed after the deploy start but beyond the window after completion: unmet as before', () => {
    const done: Deploy = { ...deploy, rollout: { state: 'complete', at: T0 - 20 * MIN } };
    expect(judgeWindow(done, regression({ verdict: 'after', onset: T0 + 11 * S, evidence: 'placed after' }), 15 * MIN).status).toBe('unmet');
  });

  it.each([
    ['before', 'unmet'],
    ['undetermined', 'unknown'],
  ] as const)('F1 R1 placed %s: %s, never met', (verdict, status) => {
    const c = judgeWindow(deploy, regression({ verdict, evidence: `placed ${verdict}` }), 15 * MIN);
    expect(c).toEqual({ status, evidence: `placed ${verdict}` });
  });

  // The scrapes are read for an onset the grid places just after the deploy start (or, at low
  // traffic, a while after it): the grid's step may hold errors from before the deploy.
  const graded = (onset: number, onsetInStep: NonNullable<Regression['onsetInStep']>): Regression => ({ ...regression(onsetInStep), onset, onsetUncertaintyMs: 2 * S });
  it('F1 R1 an undetermined interval stays unknown even when the grid places the onset after the deploy start: its step may count requests from a scrape before it', () => {
    expect(judgeWindow(deploy, graded(T0 + 8 * S, { verdict: 'undetermined', evidence: 'too few to tell' }), 15 * MIN)).toEqual({ status: 'unknown', evidence: 'too few to tell' });
  });

  it('F1 R1 a significant before: unmet whatever the grid says', () => {
    expect(judgeWindow(deploy, graded(T0 + 8 * S, { verdict: 'before', evidence: 'placed before' }), 15 * MIN)).toEqual({ status: 'unmet', evidence: 'placed before' });
  });
});

describe('which onsets the scrapes must place', () => {
  const base: Regression = { service: 'checkout', namespace: 'shop', signal: 'error-rate', data: 'ok', onset: T0, onsetUncertaintyMs: 7.5 * S, errorRate: { baseline: 0.002, current: 0.12, baselineRequests: 100_000, currentRequests: 10_800, pValue: 1e-9, persisted: 6 } };
  const now = T0 + 3 * MIN;
  it.each([
    ['the step holding the deploy start', T0, true],
    ['the step just after it', T0 + 15 * S, true],
    ["a step after the deploy's step, whose first scrape may count requests from before the deploy", T0 + 20 * S, true],
    ['two steps after it', T0 + 30 * S, false],
    ['two steps before it', T0 - 30 * S, false],
  ] as const)('R1 an onset in %s: %s', (_, onset, needed) => {
    expect(onsetNeedsScrapes({ ...base, onset }, T0 + 5 * S, now, 15 * S, 0.001)).toBe(needed);
  });

  it('F1 at a few errors a minute the first errors may show well after the change: the reach grows', () => {
    const sparse = { ...base, onset: T0 + 60 * S, errorRate: { ...(base.errorRate as NonNullable<Regression['errorRate']>), current: 0.05, currentRequests: 240 } };
    expect(onsetNeedsScrapes(sparse, T0 + 5 * S, now, 15 * S, 0.001)).toBe(true);
  });
});

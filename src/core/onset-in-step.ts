import { formatDuration, formatInstant, MINUTE } from './duration.js';
import { pct } from './handoff-recovery.js';
import type { RawServiceSeries } from './regression-series.js';
import type { Regression } from './regression-types.js';
import { scrapeInterval, scrapeSpans } from './scrape-spans.js';
import type { ScrapeSpan } from './scrape-spans.js';
import { normalUpperTail } from './stats-normal.js';
import { testHigherRate } from './stats-binomial.js';

// R1 when the regression began inside the scrape interval that holds the deploy start: on which
// side of the deploy did it begin? Requests arrive uniformly inside an interval (t0, t1], so if the
// 5xx share went from p0 to p1 at time s, the interval's expected errors are
// n·((s − t0)/Δ·p0 + (t1 − s)/Δ·p1): the earlier the onset, the more errors. An onset before the
// deploy start D gives at least the count of an onset at D, so a count significantly below that
// places the onset after D, and one significantly above it places it before. p0 and p1 come from
// the scrapes before D and from those a scrape interval or more after it, and their own sampling
// error (and any extra-binomial noise the scrapes show) widens the test, so an uncertain share
// never makes the onset look later than the counts say (F1).

/** How far around the deploy start scrapes are read: the baseline before it, the elevated share after. */
export const AROUND_DEPLOY_MS = 5 * MINUTE;
/** A regime still rising after the deploy is a ramp whose start cannot be told from a later step. */
const RAMP_SIGNIFICANCE = 0.01;
/** Errors per scrape below which the baseline's scrape-to-scrape spread says nothing about noise. */
const MIN_ERRORS_FOR_NOISE = 10;

export type InStepVerdict = 'after' | 'before' | 'undetermined';

export interface OnsetInStep {
  verdict: InStepVerdict;
  evidence: string;
  /** The onset the counts place (epoch ms), on the verdict's side of the deploy start; absent when undetermined. */
  onset?: number;
  /** One-sided p-value of the verdict (of "after" when undetermined with counts to show). */
  pValue?: number;
}

export interface InStepInput {
  /** The service's counters at their own scrape timestamps, around the deploy start. */
  series: RawServiceSeries;
  deployStart: number;
  /** Evaluation time: nothing scraped after it is read. */
  now: number;
  /** The policy's significance (R5): the level each side of the deploy must be established at. */
  significance: number;
}

interface Pooled {
  k: number;
  n: number;
  spans: readonly ScrapeSpan[];
}

const pool = (spans: readonly ScrapeSpan[]): Pooled => ({
  k: spans.reduce((a, s) => a + s.errors, 0),
  n: spans.reduce((a, s) => a + s.requests, 0),
  spans,
});

const rate = (p: Pooled): number => (p.n > 0 ? p.k / p.n : 0);

/**
 * Extra-binomial noise of a set of spans around their pooled share, as a squared coefficient of
 * variation of the share from scrape to scrape (method of moments, not truncated at 0), and the
 * estimate's weight: its variance is about 2 / weight under binomial noise, so scrapes with few
 * errors each say little about it.
 */
function relativeNoise(p: Pooled): { value: number; weight: number } {
  const share = rate(p);
  let excess = 0;
  let scale = 0;
  for (const s of p.spans) {
    const mean = s.requests * share;
    excess += (s.errors - mean) ** 2 - mean * (1 - share);
    scale += mean * mean;
  }
  const m = p.spans.length;
  return m > 1 && scale > 0 ? { value: (excess * m) / (m - 1) / scale, weight: scale } : { value: 0, weight: 0 };
}

/** The noise estimates of several sets pooled by their weights. */
function pooledNoise(...estimates: { value: number; weight: number }[]): number {
  const weight = estimates.reduce((a, e) => a + e.weight, 0);
  return weight > 0 ? Math.max(0, estimates.reduce((a, e) => a + e.value * e.weight, 0) / weight) : 0;
}

/** Fraction of a span's requests after time `s` (uniform arrival). */
const after = (span: ScrapeSpan, s: number): number => Math.min(1, Math.max(0, (span.to - Math.max(span.from, s)) / (span.to - span.from)));

interface SideTest {
  set: Pooled;
  /** Expected errors in the set had the regime begun exactly at the deploy start. */
  expected: number;
  pAfter: number;
  pBefore: number;
}

/** Variance of a pooled share estimate: binomial, plus the scrape-to-scrape noise. */
function shareVariance(p: Pooled, noise: number): number {
  const share = rate(p);
  const squares = p.spans.reduce((a, s) => a + (s.requests * share) ** 2, 0);
  return p.n > 0 ? (share * (1 - share)) / p.n + (noise * squares) / (p.n * p.n) : 0;
}

function sideTest(set: Pooled, deployStart: number, base: Pooled, elevated: Pooled, noise: number): SideTest {
  const p0 = rate(base);
  const p1 = rate(elevated);
  let a = 0;
  let b = 0;
  let spread = 0;
  for (const s of set.spans) {
    const w = after(s, deployStart);
    a += s.requests * (1 - w);
    b += s.requests * w;
    spread += (s.requests * ((1 - w) * p0 + w * p1)) ** 2;
  }
  const expected = a * p0 + b * p1;
  const countVariance = expected * (1 - expected / Math.max(1, set.n)) + noise * spread;
  const sd = Math.sqrt(countVariance + a * a * shareVariance(base, noise) + b * b * shareVariance(elevated, noise));
  if (!(sd > 0)) return { set, expected, pAfter: 1, pBefore: 1 };
  return {
    set,
    expected,
    pAfter: normalUpperTail((expected - set.k - 0.5) / sd),
    pBefore: normalUpperTail((set.k - expected - 0.5) / sd),
  };
}

/** The onset time at which the set's expected errors equal its count, within the set's span. */
function placeOnset(set: Pooled, p0: number, p1: number): number {
  let lo = Math.min(...set.spans.map((s) => s.from));
  let hi = Math.max(...set.spans.map((s) => s.to));
  const expectedAt = (s: number) => set.spans.reduce((acc, sp) => acc + sp.requests * (p0 + (p1 - p0) * after(sp, s)), 0);
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (expectedAt(mid) > set.k) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

const pText = (p: number): string => (p < 0.001 ? p.toExponential(0) : p.toPrecision(2));
/** The counts place an onset to a few seconds at best: it is reported to the second. */
const toSecond = (ms: number): number => Math.round(ms / 1000) * 1000;
const seconds = (ms: number): string => formatDuration(toSecond(ms));

function undetermined(evidence: string, pValue?: number): OnsetInStep {
  return { verdict: 'undetermined', evidence, ...(pValue !== undefined ? { pValue } : {}) };
}

/** Where the onset lies against the deploy start, from the scrapes around it. */
export function locateOnsetInStep(input: InStepInput): OnsetInStep {
  const { deployStart: d, significance } = input;
  const until = Math.min(input.now, d + AROUND_DEPLOY_MS);
  const gap = scrapeInterval(input.series) ?? 0;
  const spans = scrapeSpans(input.series, until).filter((s) => s.to > s.from);
  const base = pool(spans.filter((s) => s.to <= d && s.to > d - AROUND_DEPLOY_MS));
  const holding = pool(spans.filter((s) => s.from < d && s.to > d));
  const nearest = pool(spans.filter((s) => s.to > d && s.from < d + gap));
  const late = spans.filter((s) => s.from >= d + gap);
  const elevated = pool(late);
  const around = `the regression began around the deploy start (${formatInstant(d)})`;
  if (base.n === 0) return undetermined(`${around}, and no scrape before it shows the share it had`);
  if (nearest.n === 0 || elevated.n === 0) return undetermined(`${around}, and too few scrapes after it show the share it rose to`);
  const p0 = rate(base);
  const p1 = rate(elevated);
  if (!(testHigherRate(elevated, base).pValue < significance)) {
    return undetermined(`${around}, but at scrape resolution the 5xx share after it (${pct(p1)}) is not clearly above the one before (${pct(p0)})`);
  }
  const firstLate = pool(late.filter((s) => s.from < d + 2 * gap));
  const rest = pool(late.filter((s) => s.from >= d + 2 * gap));
  if (rest.n === 0) return undetermined(`${around}, and too few scrapes after it show whether the 5xx share has stopped rising`);
  // Whether the share still rises is judged against the noise the baseline shows (when its scrapes
  // hold enough errors each): the late scrapes would count a ramp's rise as noise.
  const baseEstimate = relativeNoise(base);
  const baseNoise = p0 * (base.n / base.spans.length) >= MIN_ERRORS_FOR_NOISE ? Math.max(0, baseEstimate.value) : 0;
  const rising = (rate(rest) - rate(firstLate)) / Math.sqrt(shareVariance(rest, baseNoise) + shareVariance(firstLate, baseNoise));
  if (normalUpperTail(rising) < RAMP_SIGNIFICANCE) {
    return undetermined(`${around}, and the 5xx share was still rising after it (${pct(rate(firstLate))}, then ${pct(rate(rest))}): a gradual rise that began before it cannot be told from a later step`);
  }
  const noise = pooledNoise(baseEstimate, relativeNoise(elevated));

  // The interval holding the deploy start alone, and with the scrape after it (an onset just after
  // an interval's end shows there); Bonferroni over the two.
  const tests = [holding, nearest].filter((s) => s.n > 0).map((s) => sideTest(s, d, base, elevated, noise));
  const m = tests.length;
  const best = (key: 'pAfter' | 'pBefore') => tests.reduce((x, y) => (y[key] < x[key] ? y : x));
  const forAfter = best('pAfter');
  const forBefore = best('pBefore');
  const describe = (t: SideTest) => {
    const from = Math.min(...t.set.spans.map((s) => s.from));
    const to = Math.max(...t.set.spans.map((s) => s.to));
    return (
      `5xx began inside the scrape interval ${formatInstant(from)}–${formatInstant(to)} that holds the deploy start (${formatInstant(d)}): ` +
      `${String(Math.round(t.set.k))} errors in ${String(Math.round(t.set.n))} requests there, against ${t.expected.toFixed(0)} had they begun at the deploy start (${pct(p0)} before, ${pct(p1)} after)`
    );
  };
  const pAfter = Math.min(1, forAfter.pAfter * m);
  const pBefore = Math.min(1, forBefore.pBefore * m);
  if (pAfter < significance) {
    const onset = Math.max(d, toSecond(placeOnset(forAfter.set, p0, p1)));
    return {
      verdict: 'after',
      onset,
      pValue: pAfter,
      evidence: `${describe(forAfter)}; the counts place the onset about ${seconds(onset - d)} after the deploy start, so it follows the deploy (p = ${pText(pAfter)})`,
    };
  }
  if (pBefore < significance) {
    const onset = Math.min(d - 1, toSecond(placeOnset(forBefore.set, p0, p1)));
    return {
      verdict: 'before',
      onset,
      pValue: pBefore,
      evidence: `${describe(forBefore)}; the counts place the onset about ${seconds(d - onset)} before the deploy start, so it predates the deploy (p = ${pText(pBefore)})`,
    };
  }
  return undetermined(`${describe(forAfter)}; too few to tell on which side of the deploy start it began (p = ${pText(pAfter)} for after it, ${pText(pBefore)} for before)`, pAfter);
}

/**
 * Whether a regression's onset, located on the detector's grid, is close enough to the deploy
 * start that the scrapes must say on which side it lies. The reach is a step (a step's first
 * scrape may count requests from before the deploy when scrapes do not fall on the grid), the
 * onset's confidence set, and how long the excess errors may take to show at all: at a few errors
 * a minute the grid places a change where its first errors fell, which can be well after it began.
 */
export function onsetNeedsScrapes(regression: Regression, deployStart: number, now: number, stepMs: number, significance: number): boolean {
  const onset = regression.onset;
  const e = regression.errorRate;
  if (onset === undefined || e === undefined) return false;
  const excessPerMs = ((e.current - e.baseline) * e.currentRequests) / Math.max(stepMs, now - onset);
  const firstErrors = excessPerMs > 0 ? Math.min(AROUND_DEPLOY_MS, Math.log(1 / significance) / excessPerMs) : AROUND_DEPLOY_MS;
  const reach = Math.max(stepMs, regression.onsetUncertaintyMs ?? 0, firstErrors);
  return onset - reach < deployStart && onset + Math.max(stepMs, regression.onsetUncertaintyMs ?? 0) >= deployStart;
}

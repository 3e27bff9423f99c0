import { formatDuration, formatInstant, MINUTE } from './duration.js';
import { pct } from './handoff-recovery.js';
import type { RawServiceSeries } from './regression-series.js';
import type { Regression } from './regression-types.js';
import { scrapeInterval, scrapeSpans } from './scrape-spans.js';
import type { ScrapeSpan } from './scrape-spans.js';
import { normalUpperTail } from './stats-normal.js';
import { testHigherRate } from './stats-binomial.js';
import { testMixedShare } from './stats-profile.js';

// R1 when the regression began inside the scrape interval that holds the deploy start: on which
// side of the deploy did it begin? Requests arrive uniformly inside an interval (t0, t1], so if the
// 5xx share went from p0 to p1 at time s, the interval's expected errors are
// n·((s − t0)/Δ·p0 + (t1 − s)/Δ·p1): the earlier the onset, the more errors. An onset before the
// deploy start D gives at least the count of an onset at D, so a count significantly below that
// places the onset after D, and one significantly above it places it before. p0 and p1 come from
// the scrapes before D and from those a scrape interval or more after it, and their own sampling
// error (and any extra-binomial noise the scrapes show) widens the test, so an uncertain share
// never makes the onset look later than the counts say (F1).

/** How far around the deploy start the shares are read: the baseline before it, the first errors after. */
export const AROUND_DEPLOY_MS = 5 * MINUTE;
/**
 * How far before the deploy start scrapes are read for their scrape-to-scrape noise: ten scrapes
 * (5 min of 30 s scrapes) estimate it too loosely to be trusted, so a longer stretch is read.
 */
const NOISE_BEFORE_MS = 30 * MINUTE;
/**
 * How far after the deploy start the settled share is read: when the scrapes before the deploy
 * cannot show the noise, each scrape after it adds a degree of freedom to the test.
 */
const SETTLED_UNTIL_MS = 10 * MINUTE;

/** The span of scrapes the in-step test reads, up to `now`; a source reading it adds a scrape interval before, for a reference sample. */
export function scrapesRead(deployStart: number, now: number): { start: number; end: number } {
  return { start: deployStart - NOISE_BEFORE_MS, end: Math.min(now, deployStart + SETTLED_UNTIL_MS) };
}
/** A regime still rising after the deploy is a ramp whose start cannot be told from a later step. */
const RAMP_SIGNIFICANCE = 0.01;
/** The shortest time scale on which a ramp is told from a step: scrapes seconds apart are pooled up to it. */
const RAMP_SCALE_MS = 15_000;
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

interface NoiseEstimate {
  value: number;
  /** Each scrape's expected errors, for the estimate's precision. */
  means: number[];
}

/**
 * Extra-binomial noise of a set of spans around their pooled share, as a squared coefficient of
 * variation of the share from scrape to scrape (method of moments, not truncated at 0).
 */
function relativeNoise(p: Pooled): NoiseEstimate {
  const share = rate(p);
  let excess = 0;
  let scale = 0;
  const means: number[] = [];
  for (const s of p.spans) {
    const mean = s.requests * share;
    excess += (s.errors - mean) ** 2 - mean * (1 - share);
    scale += mean * mean;
    means.push(mean);
  }
  const m = p.spans.length;
  return m > 1 && scale > 0 ? { value: (excess * m) / (m - 1) / scale, means } : { value: 0, means: [] };
}

/**
 * Inverse variance of an estimate when the true noise is `noise`: about 2·Σ(μ + noise·μ²)² / (Σμ²)²,
 * so a few scrapes with many errors each say little once the noise is real, however many errors
 * they hold, and many scrapes with fewer errors may say more.
 */
function precision(e: NoiseEstimate, noise: number): number {
  const scale = e.means.reduce((a, mu) => a + mu * mu, 0);
  const spread = e.means.reduce((a, mu) => a + (mu + noise * mu * mu) ** 2, 0);
  return e.means.length > 1 && spread > 0 ? (scale * scale) / (2 * spread) : 0;
}

/** How many standard errors (under binomial noise) an estimate must stand above 0 to show noise. */
const NOISE_SHOWN_Z = 2;

/**
 * The noise estimates of several sets pooled by their precision, judged at the largest noise one of
 * them clearly shows (so a set that shows it is not outweighed by one too small to show it, and a
 * chance excess in a set of few errors does not swamp the others).
 */
function pooledNoise(...estimates: NoiseEstimate[]): number {
  const shown = estimates.filter((e) => e.value > NOISE_SHOWN_Z / Math.sqrt(precision(e, 0)));
  const pilot = Math.max(0, ...shown.map((e) => e.value));
  const weights = estimates.map((e) => precision(e, pilot));
  const weight = weights.reduce((a, w) => a + w, 0);
  return weight > 0 ? Math.max(0, estimates.reduce((a, e, i) => a + e.value * (weights[i] ?? 0), 0) / weight) : 0;
}

/** Fraction of a span's requests after time `s` (uniform arrival). */
const after = (span: ScrapeSpan, s: number): number => Math.min(1, Math.max(0, (span.to - Math.max(span.from, s)) / (span.to - span.from)));

interface SideTest {
  set: Pooled;
  /** The spans whose share the set's elevated part is expected at. */
  elevated: Pooled;
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

/** Scrape-to-scrape noise as the tests take it, and the degrees of freedom of its estimate. */
interface Noise {
  value: number;
  df: number;
}

function sideTest(set: Pooled, deployStart: number, base: Pooled, elevated: Pooled, { value: noise, df }: Noise): SideTest {
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
  // Scrape-to-scrape noise widens the count's spread beyond the binomial: the test's dispersion.
  const binomial = expected * (1 - expected / Math.max(1, set.n));
  const dispersion = binomial > 0 ? 1 + (noise * spread) / binomial : 1;
  const t = testMixedShare(base, elevated, set, set.n > 0 ? b / set.n : 0, dispersion, df);
  return { set, elevated, expected, pAfter: t.pLower, pBefore: t.pHigher };
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

/** How much of the significance the runs of one and two spans get; the longer runs share the rest. */
const SHORT_RUN_WEIGHT = 0.4;
/** Lengths (in spans) of the longer runs tried: about doubling, so few are paid for. */
const LONG_RUNS = [3, 4, 6, 8, 12, 16];
/** Spans after a run that must remain to show the share it is tested against. */
const MIN_SPANS_AFTER = 2;

/** Whether the share of `rest` is significantly above that of the spans before it (a ramp). */
function stillRising(first: Pooled, rest: Pooled, noise: number): boolean {
  if (first.n === 0 || rest.n === 0) return false;
  const z = (rate(rest) - rate(first)) / Math.sqrt(shareVariance(rest, noise) + shareVariance(first, noise));
  return normalUpperTail(z) < RAMP_SIGNIFICANCE;
}

/** The end of the first span from the deploy start on whose share is clearly above the baseline's. */
function firstElevatedEnd(spans: readonly ScrapeSpan[], d: number, base: Pooled): number | undefined {
  return spans.find((s) => s.to > d && testHigherRate({ k: s.errors, n: s.requests }, base).pValue < RAMP_SIGNIFICANCE)?.to;
}

/**
 * The runs of consecutive spans from the one holding the deploy start that the "after" test tries,
 * each with its share of the significance (weighted Bonferroni): the holding interval alone and with
 * the next get most of it; longer runs, for onsets a few scrapes later or errors slow to show at
 * low traffic, share the rest. A run needs a few scrapes after it to show the elevated share.
 */
function afterRuns(spans: readonly ScrapeSpan[], d: number, settled: number, scale: number): { run: Pooled; after: Pooled; weight: number }[] {
  const from = spans.filter((s) => s.to > d);
  const late = (length: number) => from.slice(length).filter((s) => s.from >= settled);
  // Longer runs stay inside the span the ramp check has shown steady after: a ramp that began
  // before the deploy would otherwise leave its early spans looking "too low" against later ones.
  const long = LONG_RUNS.filter((length) => (from[length - 1]?.to ?? Infinity) <= d + scale && late(length).length >= MIN_SPANS_AFTER);
  const short = [1, 2].filter((length) => late(length).length > 0);
  const longWeight = long.length > 0 ? 1 - 2 * SHORT_RUN_WEIGHT : 0;
  const weight = (length: number) => (length <= 2 ? (1 - longWeight) / short.length : longWeight / long.length);
  return [...short, ...long].map((length) => ({ run: pool(from.slice(0, length)), after: pool(late(length)), weight: weight(length) }));
}

const pText = (p: number): string => (p < 0.001 ? p.toExponential(1) : p.toPrecision(2));
/** The counts place an onset to a few seconds at best: it is reported to the second. */
const toSecond = (ms: number): number => Math.round(ms / 1000) * 1000;
const seconds = (ms: number): string => formatDuration(toSecond(ms));

function undetermined(evidence: string, pValue?: number): OnsetInStep {
  return { verdict: 'undetermined', evidence, ...(pValue !== undefined ? { pValue } : {}) };
}

/** Where the onset lies against the deploy start, from the scrapes around it. */
export function locateOnsetInStep(input: InStepInput): OnsetInStep {
  const { deployStart: d, significance } = input;
  const until = scrapesRead(d, input.now).end;
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
  // The share must have stopped rising a ramp's time scale after the deploy (a scrape interval, or
  // RAMP_SCALE_MS for scrapes seconds apart, whose runs after the deploy are tested up to it), and
  // after the first interval clearly above the baseline: a step a few scrapes after the deploy
  // leaves the one interval that holds it partly elevated, which is no rise.
  const scale = Math.max(gap, RAMP_SCALE_MS);
  const settled = Math.max(d + scale, firstElevatedEnd(spans, d, base) ?? -Infinity);
  const firstLate = pool(late.filter((s) => s.from >= settled && s.from < settled + scale));
  const rest = pool(late.filter((s) => s.from >= settled + scale));
  if (rest.n === 0) return undetermined(`${around}, and too few scrapes after it show whether the 5xx share has stopped rising`);
  // Whether the share still rises is judged against the noise the baseline shows (when its scrapes
  // hold enough errors each): the late scrapes would count a ramp's rise as noise.
  const quiet = pool(spans.filter((s) => s.to <= d && s.to > d - NOISE_BEFORE_MS));
  const baseEstimate = relativeNoise(quiet);
  const quietShowsNoise = rate(quiet) * (quiet.n / Math.max(1, quiet.spans.length)) >= MIN_ERRORS_FOR_NOISE;
  const baseNoise = quietShowsNoise ? Math.max(0, baseEstimate.value) : 0;
  if (stillRising(firstLate, rest, baseNoise)) {
    return undetermined(`${around}, and the 5xx share was still rising after it (${pct(rate(firstLate))}, then ${pct(rate(rest))}): a gradual rise that began before it cannot be told from a later step`);
  }
  // The share after the rise and its scrape-to-scrape noise come from the spans it has settled in:
  // a partly elevated interval is no noise.
  const steady = pool(late.filter((s) => s.from >= settled));
  // Scrapes before the deploy with a handful of errors each cannot show their noise: then the few
  // scrapes after it are all that can, and the tests pay for estimating it from so few (F1).
  const noise: Noise = quietShowsNoise
    ? { value: pooledNoise(baseEstimate, relativeNoise(steady)), df: Infinity }
    : { value: Math.max(0, relativeNoise(steady).value), df: Math.max(1, steady.spans.length - 1) };

  // "After" is shown by too few errors in the spans from the deploy start on: in the interval that
  // holds it, or in it and the scrapes that follow (an onset a few scrapes after the deploy, or
  // errors that at low traffic take a while to show, leave several at the old share). Each run is
  // tested against the share after it, which under "before" every span after the deploy has.
  // "Before" is shown by too many errors in the interval holding it (alone or with the next).
  const runs = afterRuns(spans, d, settled, scale);
  if (runs.length === 0) return undetermined(`${around}, and too few scrapes after it show the share it rose to`);
  const afterTests = runs.map(({ run, after, weight }) => ({ test: sideTest(run, d, base, after, noise), weight }));
  const beforeTests = [holding, nearest].filter((s) => s.n > 0).map((s) => sideTest(s, d, base, steady, noise));
  const forAfter = afterTests.reduce((x, y) => (y.test.pAfter / y.weight < x.test.pAfter / x.weight ? y : x));
  const forBefore = beforeTests.reduce((x, y) => (y.pBefore < x.pBefore ? y : x));
  const describe = (t: SideTest) => {
    const from = Math.min(...t.set.spans.map((s) => s.from));
    const to = Math.max(...t.set.spans.map((s) => s.to));
    const where = t.set.spans.length > 1 ? `the ${String(t.set.spans.length)} scrape intervals ${formatInstant(from)}–${formatInstant(to)} from the one` : `the scrape interval ${formatInstant(from)}–${formatInstant(to)}`;
    return (
      `5xx began inside ${where} that holds the deploy start (${formatInstant(d)}): ` +
      `${String(Math.round(t.set.k))} errors in ${String(Math.round(t.set.n))} requests there, against ${t.expected.toFixed(0)} had they begun at the deploy start (${pct(p0)} before, ${pct(rate(t.elevated))} after)` +
      (Number.isFinite(noise.df) ? `, with how much the share varies from scrape to scrape judged from the ${String(noise.df + 1)} scrapes after it alone (too few errors before it to show)` : '')
    );
  };
  const pAfter = Math.min(1, forAfter.test.pAfter / forAfter.weight);
  const pBefore = Math.min(1, forBefore.pBefore * beforeTests.length);
  if (pAfter < significance) {
    const onset = Math.max(d, toSecond(placeOnset(forAfter.test.set, p0, rate(forAfter.test.elevated))));
    return {
      verdict: 'after',
      onset,
      pValue: pAfter,
      evidence: `${describe(forAfter.test)}; the counts place the onset about ${seconds(onset - d)} after the deploy start, so it follows the deploy (p = ${pText(pAfter)})`,
    };
  }
  if (pBefore < significance) {
    const onset = Math.min(d - 1, toSecond(placeOnset(forBefore.set, p0, rate(steady))));
    return {
      verdict: 'before',
      onset,
      pValue: pBefore,
      evidence: `${describe(forBefore)}; the counts place the onset about ${seconds(d - onset)} before the deploy start, so it predates the deploy (p = ${pText(pBefore)})`,
    };
  }
  return undetermined(`${describe(forAfter.test)}; too few to tell on which side of the deploy start it began (p = ${pText(pAfter)} for after it, ${pText(pBefore)} for before)`, pAfter);
}

/**
 * Whether a regression's onset, located on the detector's grid, is close enough to the deploy
 * start that the scrapes must say on which side it lies. The reach is the onset's confidence set,
 * or how long the excess errors may take to show at all, and a step beyond it (a step's first
 * scrape may count requests from before it when scrapes do not fall on the grid): at a few errors
 * a minute the grid places a change where its first errors fell, which can be well after it began.
 */
export function onsetNeedsScrapes(regression: Regression, deployStart: number, now: number, stepMs: number, significance: number): boolean {
  const onset = regression.onset;
  const e = regression.errorRate;
  if (onset === undefined || e === undefined) return false;
  const excessPerMs = ((e.current - e.baseline) * e.currentRequests) / Math.max(stepMs, now - onset);
  const firstErrors = excessPerMs > 0 ? Math.min(AROUND_DEPLOY_MS, Math.log(1 / significance) / excessPerMs) : AROUND_DEPLOY_MS;
  // The step at the confidence set's edge may count requests from a scrape interval (≤ a step) before it.
  const reach = Math.max(regression.onsetUncertaintyMs ?? 0, firstErrors) + stepMs;
  return onset - reach < deployStart && onset + Math.max(stepMs, regression.onsetUncertaintyMs ?? 0) >= deployStart;
}

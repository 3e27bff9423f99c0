import { judgeCleanSignal } from '../src/core/conditions/clean-signal.js';
import { judgeWindow } from '../src/core/conditions/window.js';
import type { Condition } from '../src/core/decision-types.js';
import { DEFAULT_POLICY } from '../src/core/policy.js';
import type { Policy } from '../src/core/policy.js';
import { detectRegression } from '../src/core/regression.js';
import type { RawServiceSeries } from '../src/core/regression-series.js';
import { scrapeSpans } from '../src/core/scrape-spans.js';
import { normalUpperTail } from '../src/core/stats-normal.js';
import { rng } from '../test/support/metric-scenarios.js';
import { stepScrapes } from '../test/support/step-scrapes.js';
import { quantile } from './stats.js';

// The fast-failure cases of the detection benchmark (issue 15): the 5xx share steps up seconds
// from the deploy start, with the deploy at a random offset inside the scrape interval. Clean fast
// failures (onset 3–15 s after the deploy, ≥ 20 req/s, ≥ 10% 5xx) must reach R1 met; the same
// steps beginning before the deploy (anywhere in its interval or the one before) must never.
// The agent's evaluation is replayed every step, as in the main corpus; at the first evaluation
// where R5's clean signal is met, R1 is judged as the agent would during the rollout.

const MIN = 60_000;
const WINDOW_MS = 15 * MIN;
const HORIZON = 10 * MIN;
const BASE_TIME = Date.UTC(2026, 2, 2, 9, 0, 0);

export interface FastCase {
  id: number;
  /** Seconds from the deploy start to the onset (negative: before it). */
  offsetS: number;
  rate: number;
  jump: number;
  base: number;
  scrapeMs: number;
  noise: number;
  deployStart: number;
  series: RawServiceSeries;
}

/** `boundary`: every onset in the half second before the deploy start, the hardest "before" to tell from "after". */
export function buildFastCorpus(total: number, seed: number, boundary = false): FastCase[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const cases: FastCase[] = [];
  for (let id = 0; id < total; id++) {
    const scrapeMs = pick([15_000, 30_000]);
    const first = BASE_TIME + Math.floor(random() * 3600) * 1000;
    // The deploy falls anywhere inside a scrape interval, 40 min of scrapes after the first.
    const deployStart = first + 40 * MIN + Math.floor(random() * scrapeMs);
    const before = boundary || id % 2 === 1;
    // Before: anywhere in the deploy's scrape interval or the one before it (at least 0.1 s).
    const offsetS = boundary ? -0.5 * random() - 0.001 : before ? -(0.1 + random() * ((deployStart - first) % scrapeMs + scrapeMs - 100) / 1000) : 3 + random() * 12;
    const rate = pick([20, 50, 100, 1000]);
    const base = pick([0, 0.001, 0.005, 0.01]);
    const jump = pick([0.1, 0.2, 0.5]);
    const noise = id % 4 < 2 ? 0 : 0.3;
    const series = stepScrapes({ seed: Math.floor(random() * 2 ** 31), scrapeMs, first, end: deployStart + HORIZON, rate, p0: base, p1: base + jump, onset: deployStart + offsetS * 1000, noise });
    cases.push({ id, offsetS, rate, jump, base, scrapeMs, noise, deployStart, series });
  }
  return cases;
}

export interface FastJudgement {
  /** R1 at the first evaluation where R5's clean signal is met; undefined when it never is. */
  atFiring: Condition | undefined;
  /**
   * Milliseconds from that first firing to the first evaluation where R5 and R1 are both met (the
   * agent rolls back then if the decision is still open); undefined when none is within the horizon.
   */
  metAfterMs: number | undefined;
}

/** R1 as the agent's evaluations see it, every step from the deploy on, without hindsight. */
export function judgeFast(c: FastCase, readScrapes = true): FastJudgement {
  const policy: Policy = { ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, stepMs: c.scrapeMs } };
  const deploy = { namespace: 'shop', name: 'checkout', start: c.deployStart, rollout: { state: 'progressing' as const }, before: undefined, after: undefined };
  let first: { at: number; r1: Condition } | undefined;
  for (let now = Math.ceil((c.deployStart + 1) / c.scrapeMs) * c.scrapeMs; now <= c.deployStart + HORIZON; now += c.scrapeMs) {
    const r = detectRegression({ series: c.series, ...(readScrapes ? { scraped: c.series } : {}), deployStart: c.deployStart, now, policy });
    if (judgeCleanSignal(r, policy).status !== 'met') continue;
    const r1 = judgeWindow(deploy, r, WINDOW_MS);
    first ??= { at: now, r1 };
    if (r1.status === 'met') return { atFiring: first.r1, metAfterMs: now - first.at };
  }
  return { atFiring: first?.r1, metAfterMs: undefined };
}

/** P(X ≤ k) for X ~ Poisson(mu). */
function poissonLowerTail(k: number, mu: number): number {
  let term = Math.exp(-mu);
  let sum = term;
  for (let j = 1; j <= k; j++) {
    term *= mu / j;
    sum += term;
  }
  return Math.min(1, sum);
}

/**
 * The ceiling any reading of these counts can reach: the true shares known, an exact Poisson test
 * of the interval holding the deploy start (alone, or with the next) at the policy's significance,
 * and the better of the two taken without paying for the choice.
 */
export function oracleAfter(c: FastCase): boolean {
  const spans = scrapeSpans(c.series, c.deployStart + HORIZON);
  const d = c.deployStart;
  const p1 = c.base + c.jump;
  const test = (set: typeof spans) => {
    const k = set.reduce((a, s) => a + s.errors, 0);
    const mu = set.reduce((a, s) => a + s.requests * (c.base + (p1 - c.base) * Math.min(1, (s.to - Math.max(s.from, d)) / (s.to - s.from))), 0);
    return set.length > 0 ? poissonLowerTail(k, mu) : 1;
  };
  const holding = spans.filter((s) => s.from < d && s.to > d);
  const nearest = spans.filter((s) => s.to > d && s.from < d + c.scrapeMs);
  return Math.min(test(holding), test(nearest)) < DEFAULT_POLICY.thresholds.significance;
}

/**
 * Whether a likelihood-ratio test with the true shares, the onset free at or after the deploy start
 * against an onset at it, over the scrapes from one before the deploy to three after, places the
 * onset after the deploy at the policy's significance.
 */
export function oracleLikelihoodAfter(c: FastCase): boolean {
  const d = c.deployStart;
  const spans = scrapeSpans(c.series, d + HORIZON).filter((s) => s.to > d - c.scrapeMs && s.from < d + 3 * c.scrapeMs);
  const p1 = c.base + c.jump;
  const xlogy = (x: number, y: number) => (x === 0 ? 0 : x * Math.log(y));
  const logLik = (onset: number) =>
    spans.reduce((acc, s) => {
      const q = c.base + (p1 - c.base) * Math.min(1, Math.max(0, (s.to - Math.max(s.from, onset)) / (s.to - s.from)));
      return acc + xlogy(s.errors, q) + xlogy(s.requests - s.errors, 1 - q);
    }, 0);
  let best = -Infinity;
  for (let onset = d; onset <= d + 3 * c.scrapeMs; onset += 250) best = Math.max(best, logLik(onset));
  return normalUpperTail(Math.sqrt(Math.max(0, 2 * (best - logLik(d))))) < DEFAULT_POLICY.thresholds.significance;
}

const seconds = (xs: readonly number[], q: number): string => (xs.length > 0 ? `${(quantile(xs, q) / 1000).toFixed(0)} s` : 'n/a');

export function reportFastFailures(total: number, seed: number): void {
  const corpus = buildFastCorpus(total, seed);
  const outcomes = corpus.map((c) => ({ c, j: judgeFast(c) }));
  const rows: [string, (c: FastCase) => boolean][] = [
    ['clean fast failures (onset 3–15 s after, no extra noise)', (c) => c.offsetS > 0 && c.noise === 0],
    ['fast failures with scrape-to-scrape noise (log-sd 0.3)', (c) => c.offsetS > 0 && c.noise > 0],
    ['began before the deploy, no extra noise', (c) => c.offsetS < 0 && c.noise === 0],
    ['began before the deploy, with noise', (c) => c.offsetS < 0 && c.noise > 0],
  ];
  const ever = (o: { j: FastJudgement }) => o.j.metAfterMs !== undefined;
  console.log(`\nfast failures: ${corpus.length} cases (scrapes 15 s and 30 s, step = scrape interval, ≥ 20 req/s, +10/20/50pp, deploy at a random offset in its scrape interval)`);
  console.log('R1 at the first evaluation where R5 is met: met / unknown / unmet / R5 never met; then R1 met at any evaluation within 10 min (when the agent acts on an open decision), and how long after the first firing');
  for (const [name, keep] of rows) {
    const of = outcomes.filter((o) => keep(o.c));
    const count = (status: string | undefined) => of.filter((o) => o.j.atFiring?.status === status).length;
    const met = count('met');
    const share = (n: number) => (of.length > 0 ? (n / of.length).toFixed(3) : 'n/a');
    const later = of.filter(ever);
    const delays = later.map((o) => o.j.metAfterMs ?? 0);
    console.log(`  ${name}: at the first firing ${met} / ${count('unknown')} / ${count('unmet')} / ${count(undefined)} of ${of.length} (R1 met ${share(met)}); at any evaluation ${later.length} (${share(later.length)}), after the first firing p50 ${seconds(delays, 0.5)}, p90 ${seconds(delays, 0.9)}`);
  }
  const clean = outcomes.filter((o) => o.c.offsetS > 0 && o.c.noise === 0);
  const recall = clean.filter(ever).length / Math.max(1, clean.length);
  const falseMet = (noisy: boolean) => outcomes.filter((o) => o.c.offsetS < 0 && o.c.noise > 0 === noisy && ever(o)).length;
  const gridMet = (keep: (c: FastCase) => boolean) => outcomes.filter((o) => keep(o.c) && judgeFast(o.c, false).metAfterMs !== undefined).length;
  console.log(
    `from the grid alone (without the scrapes), R1 met at any evaluation: ${gridMet((c) => c.offsetS > 0 && c.noise === 0)} clean fast failures; ${gridMet((c) => c.offsetS < 0 && c.noise === 0)} clean + ${gridMet((c) => c.offsetS < 0 && c.noise > 0)} noisy that began before the deploy`,
  );
  const lr = (of: typeof clean) => of.filter((o) => oracleLikelihoodAfter(o.c)).length;
  const lrShare = lr(clean) / Math.max(1, clean.length);
  console.log(
    `targets without a pod label (one series per service; recall ≥ 0.95 on clean fast failures, no onset before the deploy judged met at any evaluation): recall ${recall.toFixed(3)} (a likelihood-ratio test told the true shares and the noise reaches ${lrShare.toFixed(3)} at the first firing), before-deploy met ${falseMet(false)} clean + ${falseMet(true)} noisy: ${recall >= 0.95 && falseMet(false) + falseMet(true) === 0 ? 'met' : 'NOT met'} (with a pod label: below)`,
  );
  const ceiling = (of: typeof clean) => of.filter((o) => oracleAfter(o.c)).length;
  console.log(`ceiling on the same clean cases (true shares known, exact test, no multiplicity): ${(ceiling(clean) / Math.max(1, clean.length)).toFixed(3)}`);
  for (const rate of [20, 50, 100, 1000]) {
    const of = clean.filter((o) => o.c.rate === rate);
    console.log(`  clean at ${rate} req/s: R1 met ${of.filter((o) => o.j.atFiring?.status === 'met').length} at the first firing, ${of.filter(ever).length} at any evaluation, of ${of.length} (ceiling ${ceiling(of)}, likelihood-ratio ceiling ${lr(of)})`);
  }
  const edge = buildFastCorpus(total, seed + 1, true).map((c) => ({ c, j: judgeFast(c) }));
  const edgeMet = (noisy: boolean) => edge.filter((o) => o.c.noise > 0 === noisy && ever(o)).length;
  const edgeOf = (noisy: boolean) => edge.filter((o) => o.c.noise > 0 === noisy).length;
  console.log(
    `onset within 0.5 s before the deploy start (the least favourable "before"): R1 met at any evaluation ${edgeMet(false)} of ${edgeOf(false)} clean, ${edgeMet(true)} of ${edgeOf(true)} noisy (at significance ${DEFAULT_POLICY.thresholds.significance})`,
  );
  if (process.argv.includes('--list')) {
    for (const o of outcomes) {
      if ((o.c.offsetS > 0 && !ever(o)) || (o.c.offsetS < 0 && ever(o))) {
        console.log(`  #${o.c.id} onset ${o.c.offsetS.toFixed(1)} s, ${o.c.rate}/s +${o.c.jump}, scrape ${o.c.scrapeMs / 1000}s, noise ${o.c.noise}: ${o.j.atFiring?.status ?? 'R5 never met'}: ${o.j.atFiring?.evidence ?? ''}`);
      }
    }
  }
}

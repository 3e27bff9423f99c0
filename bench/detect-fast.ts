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

/** R1 at the first evaluation where the clean signal is met; undefined when it never is. */
export function r1AtFiring(c: FastCase, readScrapes = true): Condition | undefined {
  const policy: Policy = { ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, stepMs: c.scrapeMs } };
  const deploy = { namespace: 'shop', name: 'checkout', start: c.deployStart, rollout: { state: 'progressing' as const }, before: undefined, after: undefined };
  for (let now = Math.ceil((c.deployStart + 1) / c.scrapeMs) * c.scrapeMs; now <= c.deployStart + HORIZON; now += c.scrapeMs) {
    const r = detectRegression({ series: c.series, ...(readScrapes ? { scraped: c.series } : {}), deployStart: c.deployStart, now, policy });
    if (judgeCleanSignal(r, policy).status === 'met') return judgeWindow(deploy, r, WINDOW_MS);
  }
  return undefined;
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

export function reportFastFailures(total: number, seed: number): void {
  const corpus = buildFastCorpus(total, seed);
  const outcomes = corpus.map((c) => ({ c, r1: r1AtFiring(c) }));
  const rows: [string, (c: FastCase) => boolean][] = [
    ['clean fast failures (onset 3–15 s after, no extra noise)', (c) => c.offsetS > 0 && c.noise === 0],
    ['fast failures with scrape-to-scrape noise (log-sd 0.3)', (c) => c.offsetS > 0 && c.noise > 0],
    ['began before the deploy, no extra noise', (c) => c.offsetS < 0 && c.noise === 0],
    ['began before the deploy, with noise', (c) => c.offsetS < 0 && c.noise > 0],
  ];
  console.log(`\nfast failures: ${corpus.length} cases (scrapes 15 s and 30 s, step = scrape interval, ≥ 20 req/s, +10/20/50pp, deploy at a random offset in its scrape interval)`);
  console.log('R1 at the first evaluation where R5 is met: met / unknown / unmet / R5 never met');
  for (const [name, keep] of rows) {
    const of = outcomes.filter((o) => keep(o.c));
    const count = (status: string | undefined) => of.filter((o) => o.r1?.status === status).length;
    const met = count('met');
    const share = of.length > 0 ? (met / of.length).toFixed(3) : 'n/a';
    console.log(`  ${name}: ${met} / ${count('unknown')} / ${count('unmet')} / ${count(undefined)} of ${of.length}; R1 met ${share}`);
  }
  const clean = outcomes.filter((o) => o.c.offsetS > 0 && o.c.noise === 0);
  const recall = clean.filter((o) => o.r1?.status === 'met').length / Math.max(1, clean.length);
  const falseMet = (noisy: boolean) => outcomes.filter((o) => o.c.offsetS < 0 && o.c.noise > 0 === noisy && o.r1?.status === 'met').length;
  const gridMet = (keep: (c: FastCase) => boolean) => outcomes.filter((o) => keep(o.c) && r1AtFiring(o.c, false)?.status === 'met').length;
  console.log(
    `from the grid alone (without the scrapes), R1 met: ${gridMet((c) => c.offsetS > 0 && c.noise === 0)} clean fast failures; ${gridMet((c) => c.offsetS < 0 && c.noise === 0)} clean + ${gridMet((c) => c.offsetS < 0 && c.noise > 0)} noisy that began before the deploy`,
  );
  const lr = (of: typeof clean) => of.filter((o) => oracleLikelihoodAfter(o.c)).length;
  const lrShare = lr(clean) / Math.max(1, clean.length);
  console.log(
    `targets without a pod label (one series per service; recall ≥ 0.95 on clean fast failures, no onset before the deploy judged met): recall ${recall.toFixed(3)} (a likelihood-ratio test told the true shares reaches ${lrShare.toFixed(3)} at this significance), before-deploy met ${falseMet(false)} clean + ${falseMet(true)} noisy: ${recall >= 0.95 && falseMet(false) + falseMet(true) === 0 ? 'met' : 'NOT met'} (with a pod label: below)`,
  );
  console.log(`ceiling of a likelihood-ratio test on the same clean cases (true shares known, onset free after the deploy start, no multiplicity): ${lrShare.toFixed(3)}`);
  const ceiling = (of: typeof clean) => of.filter((o) => oracleAfter(o.c)).length;
  console.log(`ceiling on the same clean cases (true shares known, exact test, no multiplicity): ${(ceiling(clean) / Math.max(1, clean.length)).toFixed(3)}`);
  for (const rate of [20, 50, 100, 1000]) {
    const of = clean.filter((o) => o.c.rate === rate);
    console.log(`  clean at ${rate} req/s: R1 met ${of.filter((o) => o.r1?.status === 'met').length}/${of.length} (ceiling ${ceiling(of)}, likelihood-ratio ceiling ${lr(of)})`);
  }
  const edge = buildFastCorpus(total, seed + 1, true).map((c) => ({ c, r1: r1AtFiring(c) }));
  const edgeMet = (noisy: boolean) => edge.filter((o) => o.c.noise > 0 === noisy && o.r1?.status === 'met').length;
  const edgeOf = (noisy: boolean) => edge.filter((o) => o.c.noise > 0 === noisy).length;
  console.log(
    `onset within 0.5 s before the deploy start (the least favourable "before"): R1 met ${edgeMet(false)} of ${edgeOf(false)} clean, ${edgeMet(true)} of ${edgeOf(true)} noisy (at significance ${DEFAULT_POLICY.thresholds.significance})`,
  );
  if (process.argv.includes('--list')) {
    for (const o of outcomes) {
      if ((o.c.offsetS > 0 && o.r1?.status !== 'met') || (o.c.offsetS < 0 && o.r1?.status === 'met')) {
        console.log(`  #${o.c.id} onset ${o.c.offsetS.toFixed(1)} s, ${o.c.rate}/s +${o.c.jump}, scrape ${o.c.scrapeMs / 1000}s, noise ${o.c.noise}: ${o.r1?.status ?? 'R5 never met'}: ${o.r1?.evidence ?? ''}`);
      }
    }
  }
}

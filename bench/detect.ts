// Accuracy benchmark of regression detection (issue 4): a generated, labelled corpus of several
// hundred deploys (effect sizes, traffic levels, noise, ramps, latency-only, pre-existing, cold
// start, gaps, counter resets, no data). Each case is evaluated every scrape interval after the
// deploy, as the agent would, seeing only the past; a detector "fires" at the first evaluation
// where R5's clean error-rate signal is met. Two baselines run on the same series in the same run:
// a detector that never fires, and a fixed threshold on one interval (5xx share > 1%).
//
// The fast-failure cases (onset seconds from the deploy start, inside its scrape interval) follow,
// with R1 judged at the first firing (detect-fast.ts).
//
//   npm run bench:detect            (add -- --cases N to scale the corpus, --seed S to vary it,
//                                    --fast-cases N for the fast failures)

import { judgeCleanSignal } from '../src/core/conditions/clean-signal.js';
import { DEFAULT_POLICY } from '../src/core/policy.js';
import type { Policy } from '../src/core/policy.js';
import { detectionGrid, detectRegression } from '../src/core/regression.js';
import { alignSeries } from '../src/core/regression-series.js';
import { buildCorpus, HORIZON, STEP } from './detect-corpus.js';
import { reportFastFailures } from './detect-fast.js';
import { reportPodFailures } from './detect-pods.js';
import type { Case, Kind } from './detect-corpus.js';
import { quantile } from './stats.js';

interface Outcome {
  fired: boolean;
  at: number | undefined;
  onset: number | undefined;
}

/** Runs a detector every scrape interval after the deploy; returns the first firing. */
function firstFiring(c: Case, fires: (now: number) => { fired: boolean; onset: number | undefined }): Outcome {
  const firstEval = Math.ceil((c.deployStart + 1) / STEP) * STEP;
  for (let now = firstEval; now <= c.deployStart + HORIZON; now += STEP) {
    const r = fires(now);
    if (r.fired) return { fired: true, at: now, onset: r.onset };
  }
  return { fired: false, at: undefined, onset: undefined };
}

const policy: Policy = { ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, stepMs: STEP } };

const detectors: Record<string, (c: Case) => Outcome> = {
  rollguard: (c) =>
    firstFiring(c, (now) => {
      const r = detectRegression({ series: c.series, deployStart: c.deployStart, now, policy });
      return { fired: judgeCleanSignal(r, policy).status === 'met', onset: r.onset };
    }),
  'never fires': () => ({ fired: false, at: undefined, onset: undefined }),
  'fixed 1% on one interval': (c) =>
    firstFiring(c, (now) => {
      const aligned = alignSeries(c.series, detectionGrid(c.deployStart, now, policy));
      const last = aligned.intervals[aligned.intervals.length - 1];
      const fired = last !== undefined && last.end === now && last.requests > 0 && last.errors / last.requests > 0.01;
      return { fired, onset: last ? last.end - STEP : undefined };
    }),
};

/** Undefined when there are no values (printed as a dash). */
function quantileOf(xs: readonly number[], q: number): number | undefined {
  return xs.length === 0 ? undefined : quantile(xs, q);
}

interface Row {
  detector: string;
  subset: string;
  cases: number;
  positives: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number | undefined;
  recall: number | undefined;
  f1: number | undefined;
  onsetMedian: number | undefined;
  onsetP90: number | undefined;
  delayMedian: number | undefined;
  delayP90: number | undefined;
}

function score(detector: string, subset: string, cases: readonly Case[], outcomes: ReadonlyMap<number, Outcome>): Row {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const onsetErr: number[] = [];
  const delay: number[] = [];
  for (const c of cases) {
    const o = outcomes.get(c.id);
    if (!o) continue;
    if (o.fired && c.regression) {
      tp++;
      if (c.onset !== undefined && o.onset !== undefined) onsetErr.push(Math.abs(o.onset - c.onset) / STEP);
      if (c.onset !== undefined && o.at !== undefined) delay.push((o.at - Math.max(c.onset, c.deployStart)) / STEP);
    } else if (o.fired) fp++;
    else if (c.regression) fn++;
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : undefined;
  const recall = tp + fn > 0 ? tp / (tp + fn) : undefined;
  const f1 = precision !== undefined && recall !== undefined && precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : recall === undefined ? undefined : 0;
  return {
    detector,
    subset,
    cases: cases.length,
    positives: tp + fn,
    tp,
    fp,
    fn,
    precision,
    recall,
    f1,
    onsetMedian: quantileOf(onsetErr, 0.5),
    onsetP90: quantileOf(onsetErr, 0.9),
    delayMedian: quantileOf(delay, 0.5),
    delayP90: quantileOf(delay, 0.9),
  };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) ? v : fallback;
}

const corpus = buildCorpus(arg('cases', 600), arg('seed', 20260302));
const subsets: [string, (c: Case) => boolean][] = [
  ['all cases', () => true],
  ['target: jump ≥ 5pp at ≥ 1 req/s (+ all negatives)', (c) => !c.regression || (c.jump >= 0.05 && c.rate >= 1)],
];

const fmt = (x: number | undefined, digits = 3) => (x === undefined ? 'n/a' : x.toFixed(digits));
const rows: Row[] = [];
const outcomesBy = new Map<string, Map<number, Outcome>>();
for (const [name, run] of Object.entries(detectors)) {
  const outcomes = new Map<number, Outcome>();
  for (const c of corpus) outcomes.set(c.id, run(c));
  outcomesBy.set(name, outcomes);
  for (const [subset, keep] of subsets) rows.push(score(name, subset, corpus.filter(keep), outcomes));
}

const counts = new Map<Kind, number>();
for (const c of corpus) counts.set(c.kind, (counts.get(c.kind) ?? 0) + 1);
console.log(`corpus: ${corpus.length} cases (${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}); scrape interval ${STEP / 1000}s; policy defaults`);
console.log('onset error and detection delay in scrape intervals, over true positives\n');
console.log(
  ['detector', 'subset', 'pos', 'TP', 'FP', 'FN', 'precision', 'recall', 'F1', 'onset med', 'onset p90', 'delay med', 'delay p90'].join(' | '),
);
for (const r of rows) {
  console.log(
    [r.detector, r.subset, r.positives, r.tp, r.fp, r.fn, fmt(r.precision), fmt(r.recall), fmt(r.f1), fmt(r.onsetMedian, 2), fmt(r.onsetP90, 2), fmt(r.delayMedian, 1), fmt(r.delayP90, 1)].join(' | '),
  );
}

// Ratios against the fixed-threshold baseline measured in this same run.
for (const [subset] of subsets) {
  const ours = rows.find((r) => r.detector === 'rollguard' && r.subset === subset);
  const fixed = rows.find((r) => r.detector === 'fixed 1% on one interval' && r.subset === subset);
  if (ours?.f1 !== undefined && fixed?.f1 !== undefined && fixed.f1 > 0) {
    console.log(`F1 ratio rollguard / fixed threshold (${subset}): ${(ours.f1 / fixed.f1).toFixed(2)}; false alarms ${ours.fp} vs ${fixed.fp}`);
  }
}

// Per-kind view for rollguard: where the misses and false alarms are.
const ours = outcomesBy.get('rollguard') ?? new Map<number, Outcome>();
console.log('\nrollguard by kind: fired / cases (regressions labelled: yes/no)');
for (const kind of counts.keys()) {
  const of = corpus.filter((c) => c.kind === kind);
  const fired = of.filter((c) => ours.get(c.id)?.fired).length;
  const predates = of.filter((c) => c.kind === 'pre-existing' && (ours.get(c.id)?.onset ?? Infinity) < c.deployStart).length;
  console.log(`  ${kind}: ${fired}/${of.length} fired, ${of.filter((c) => c.regression).length} labelled regressions${kind === 'pre-existing' ? `, onset reported before the deploy in ${predates}` : ''}`);
}
if (process.argv.includes('--list')) {
  console.log('\nrollguard false alarms and pre-existing onsets reported after the deploy:');
  for (const c of corpus) {
    const o = ours.get(c.id);
    if (!o?.fired) continue;
    const late = c.kind === 'pre-existing' && (o.onset ?? 0) >= c.deployStart;
    if (!c.regression || late) {
      console.log(`  #${c.id} ${c.kind} rate ${c.rate}/s, jump ${c.jump}, fired ${((o.at ?? 0) - c.deployStart) / STEP} intervals after the deploy, onset ${(((o.onset ?? 0) - (c.onset ?? c.deployStart)) / STEP).toFixed(1)} intervals from the truth`);
    }
  }
}
console.log('\nrollguard recall on steps and ramps at ≥ 1 req/s, by jump:');
for (const jump of [...new Set(corpus.map((c) => c.jump))].filter((j) => j > 0).sort((a, b) => a - b)) {
  const of = corpus.filter((c) => c.regression && c.jump === jump && c.rate >= 1 && (c.kind === 'step' || c.kind === 'ramp'));
  const hit = of.filter((c) => ours.get(c.id)?.fired).length;
  console.log(`  +${(jump * 100).toFixed(0)}pp: ${hit}/${of.length}`);
}
const target = rows.find((r) => r.detector === 'rollguard' && r.subset.startsWith('target'));
if (target) {
  const ok = (target.precision ?? 0) >= 0.99 && (target.recall ?? 0) >= 0.95 && (target.onsetMedian ?? Infinity) <= 1;
  console.log(`\ntargets (precision ≥ 0.99, recall ≥ 0.95, median onset error ≤ 1 interval on the target subset): ${ok ? 'met' : 'NOT met'}`);
}

reportFastFailures(arg('fast-cases', 400), arg('seed', 20260302));
reportPodFailures(arg('pod-cases', 200), arg('seed', 20260302));

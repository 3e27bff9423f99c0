import { judgeCleanSignal } from '../src/core/conditions/clean-signal.js';
import { judgeSameService } from '../src/core/conditions/same-service.js';
import { judgeWindow } from '../src/core/conditions/window.js';
import { DEFAULT_POLICY } from '../src/core/policy.js';
import type { Policy } from '../src/core/policy.js';
import { detectRegression } from '../src/core/regression.js';
import { seriesByPod } from '../src/core/regression-series.js';
import type { CounterSeries, RawServiceSeries } from '../src/core/regression-series.js';
import { revisionSplitOf } from '../src/core/revision-split.js';
import { rng } from '../test/support/metric-scenarios.js';
import { stepScrapes } from '../test/support/step-scrapes.js';

// The fast-failure cases with a pod label (issue 15, the split by revision): two pods of the old
// ReplicaSet serve before the deploy, a pod of the new one joins seconds after the deploy start
// and takes a third of the traffic. Either the new pod answers 5xx from a few seconds after it
// joins (R1 must be met whatever the step: the errors come from pods that did not exist before),
// or the old pods do (never `auto`: R2 unmet, the pods that predate the deploy are failing).
// Pods are placed by their ReplicaSet's revision, as the agent knows it from its watches.

const MIN = 60_000;
const HORIZON = 10 * MIN;
const BASE_TIME = Date.UTC(2026, 2, 2, 9, 0, 0);
const OLD_RS = 'checkout-6c8b9f7d4';
const NEW_RS = 'checkout-7d9f5c8b6';

const REPLICA_SETS = [
  { name: OLD_RS, revision: 6 },
  { name: NEW_RS, revision: 7 },
];

interface PodCase {
  failing: 'new' | 'old';
  scrapeMs: number;
  deployStart: number;
  series: RawServiceSeries;
}

/** The series with a pod label; a pod born after the first scrape counts from zero. */
const withPod = (series: RawServiceSeries, pod: string, born: boolean) => {
  const label = (s: CounterSeries): CounterSeries => {
    const zero = born ? (s.samples[0]?.[1] ?? 0) : 0;
    return { ...s, labels: { ...s.labels, pod }, samples: s.samples.map(([ts, v]) => [ts, v - zero] as const) };
  };
  const errors = series.errors.map(label);
  // stepScrapes lists its 5xx counter among the request counters: keep it the same object.
  return { requests: series.requests.map((s) => (series.errors.includes(s) ? (errors[0] ?? label(s)) : label(s))), errors };
};

export function buildPodCorpus(total: number, seed: number): PodCase[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  return Array.from({ length: total }, (_, id) => {
    const scrapeMs = pick([15_000, 30_000]);
    const first = BASE_TIME + Math.floor(random() * 3600) * 1000;
    const deployStart = first + 40 * MIN + Math.floor(random() * scrapeMs);
    // The new pod's first scrape comes 2–10 s after the deploy start, on its own scrape phase.
    const joined = deployStart + 2000 + Math.floor(random() * 8000);
    const failing = id % 2 === 0 ? 'new' : 'old';
    const onset = (failing === 'new' ? joined : deployStart) + (3 + random() * 12) * 1000;
    const rate = pick([20, 50, 100, 1000]) / 3;
    const base = pick([0, 0.001, 0.005, 0.01]);
    const jump = pick([0.1, 0.2, 0.5]);
    const pod = (name: string, from: number, fails: boolean) =>
      withPod(stepScrapes({ seed: Math.floor(random() * 2 ** 31), scrapeMs, first: from, end: deployStart + HORIZON, rate, p0: base, p1: fails ? base + jump : base, onset: fails ? onset : undefined }), name, from > first);
    const pods = [pod(`${OLD_RS}-abcde`, first, failing === 'old'), pod(`${OLD_RS}-fghij`, first, failing === 'old'), pod(`${NEW_RS}-klmno`, joined, failing === 'new')];
    const requests = pods.flatMap((p) => p.requests);
    const errors = pods.flatMap((p) => p.errors);
    const series: RawServiceSeries = { namespace: 'shop', service: 'checkout', requests, errors, latency: [], pods: seriesByPod(requests, errors, 'pod') };
    return { failing, scrapeMs, deployStart, series };
  });
}

interface PodJudgement {
  r1: string;
  r2: string;
  evidence: string;
}

/**
 * R1 and R2 at the first evaluation where R5 is met, with the split by revision from the pod label,
 * and whether a later evaluation (within the horizon) meets both, as the agent would act on then.
 */
export function judgePods(c: PodCase): { atFiring: PodJudgement | undefined; laterAuto: boolean } {
  const policy: Policy = { ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, stepMs: c.scrapeMs } };
  const deploy = { namespace: 'shop', name: 'checkout', start: c.deployStart, rollout: { state: 'progressing' as const }, before: undefined, after: undefined };
  let atFiring: PodJudgement | undefined;
  for (let now = Math.ceil((c.deployStart + 1) / c.scrapeMs) * c.scrapeMs; now <= c.deployStart + HORIZON; now += c.scrapeMs) {
    const r = detectRegression({ series: c.series, scraped: c.series, deployStart: c.deployStart, now, policy });
    if (judgeCleanSignal(r, policy).status !== 'met') continue;
    const split = revisionSplitOf({ series: c.series, regression: r, deployStart: c.deployStart, now, policy, replicaSets: REPLICA_SETS });
    const r1 = judgeWindow(deploy, r, 15 * MIN, split);
    const judged = { r1: r1.status, r2: judgeSameService('checkout', 'shop', r, [], split).status, evidence: r1.evidence };
    atFiring ??= judged;
    if (judged.r1 === 'met' && judged.r2 === 'met') return { atFiring, laterAuto: true };
  }
  return { atFiring, laterAuto: false };
}

export function reportPodFailures(total: number, seed: number): void {
  const outcomes = buildPodCorpus(total, seed).map((c) => ({ c, ...judgePods(c) }));
  console.log(`\nfast failures with a pod label: ${outcomes.length} cases (2 old pods, 1 new pod joining 2–10 s after the deploy start, onset 3–15 s after the failing side starts, ≥ 20 req/s, +10/20/50pp)`);
  for (const failing of ['new', 'old'] as const) {
    const of = outcomes.filter((o) => o.c.failing === failing);
    const count = (keep: (j: PodJudgement) => boolean) => of.filter((o) => o.atFiring !== undefined && keep(o.atFiring)).length;
    const fired = of.filter((o) => o.atFiring !== undefined).length;
    const auto = count((j) => j.r1 === 'met' && j.r2 === 'met');
    const name = failing === 'new' ? 'errors in the new pod only' : 'errors in the old pods only';
    console.log(
      `  ${name}: R5 met ${fired} of ${of.length}; at the first firing R1 met ${count((j) => j.r1 === 'met')}, R2 unmet ${count((j) => j.r2 === 'unmet')}, R1 and R2 both met ${auto}; both met at any evaluation ${of.filter((o) => o.laterAuto).length}`,
    );
  }
  const oldAuto = outcomes.filter((o) => o.c.failing === 'old' && o.laterAuto).length;
  const fresh = outcomes.filter((o) => o.c.failing === 'new');
  const recall = fresh.filter((o) => o.atFiring?.r1 === 'met').length / Math.max(1, fresh.length);
  console.log(
    `targets with a pod label (recall ≥ 0.95 on clean fast failures of the new pods at the first firing; old-pods-only never R1 and R2 both met at any evaluation): recall ${recall.toFixed(3)}, old-pods-only auto ${oldAuto}: ${recall >= 0.95 && oldAuto === 0 ? 'met' : 'NOT met'}`,
  );
  if (process.argv.includes('--list')) {
    for (const o of fresh) if (o.atFiring?.r1 !== 'met') console.log(`  new pod failing, ${o.c.scrapeMs / 1000}s scrapes: R1 ${o.atFiring?.r1 ?? 'R5 never met'}: ${o.atFiring?.evidence ?? ''}`);
  }
}

import { describe, expect, it } from 'vitest';
import { decide } from '../../src/core/decide.js';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy.js';
import { seriesByPod, type CounterSeries, type RawServiceSeries } from '../../src/core/regression-series.js';
import { revisionSplitOf, splitByRevision, type PodCounts, type ReplicaSetRevision, type RevisionSplit } from '../../src/core/revision-split.js';
import { T0 } from '../support/builders.js';
import { cleanInput, errorRegression } from '../support/scenario.js';

// The 5xx share split by revision: which pods the errors come from, and what that adds to R1 and
// R2. Counts are chosen around the policy's threshold (2%) and significance (0.001).

const OLD_RS = 'checkout-6c8b9f7d4';
const NEW_RS = 'checkout-7d9f5c8b6';
const replicaSets: ReplicaSetRevision[] = [
  { name: OLD_RS, revision: 6 },
  { name: NEW_RS, revision: 7 },
];
const oldA = `${OLD_RS}-abcde`;
const oldB = `${OLD_RS}-fghij`;
const newA = `${NEW_RS}-klmno`;
const newB = `${NEW_RS}-pqrst`;

const c = (k: number, n: number) => ({ k, n });
const NONE = c(0, 0);

function pod(name: string, baseline: { k: number; n: number }, regression: { k: number; n: number }, appeared: PodCounts['appeared'] = 'before'): PodCounts {
  return { pod: name, baseline, regression, appeared };
}

const split = (pods: PodCounts[], rs: ReplicaSetRevision[] | undefined = replicaSets, policy: Policy = DEFAULT_POLICY): RevisionSplit | undefined =>
  splitByRevision({ pods, replicaSets: rs, dispersion: 1, policy, since: T0 });

describe('R1/R2 split by revision: which pods the errors come from', () => {
  it.each([
    {
      name: 'errors in the new pods only, the old ones at their baseline',
      pods: [pod(oldA, c(15, 3000), c(2, 600)), pod(oldB, c(15, 3000), c(3, 600)), pod(newA, NONE, c(60, 500)), pod(newB, NONE, c(55, 500))],
      kind: 'new-revision',
    },
    {
      name: 'errors in the old pods only',
      pods: [pod(oldA, c(15, 3000), c(50, 600)), pod(oldB, c(15, 3000), c(45, 600)), pod(newA, NONE, c(2, 500)), pod(newB, NONE, c(3, 500))],
      kind: 'old-revision',
    },
    {
      name: 'errors in the old pods, the new ones without traffic yet',
      pods: [pod(oldA, c(15, 3000), c(50, 600)), pod(oldB, c(15, 3000), c(45, 600)), pod(newA, NONE, NONE)],
      kind: 'old-revision',
    },
    {
      name: 'errors in both revisions',
      pods: [pod(oldA, c(15, 3000), c(50, 600)), pod(newA, NONE, c(60, 500))],
      kind: 'both',
    },
    {
      name: 'old pods under the threshold but significantly above their baseline: both',
      pods: [pod(oldA, c(15, 6000), c(75, 5000)), pod(newA, NONE, c(60, 500))],
      kind: 'both',
    },
    {
      name: 'too little old traffic to show the old pods under the threshold',
      pods: [pod(oldA, c(15, 3000), c(0, 30)), pod(newA, NONE, c(60, 500))],
      kind: 'unclear',
    },
    {
      name: 'the old pods gone (rollout complete): nothing to compare with',
      pods: [pod(oldA, c(15, 3000), NONE), pod(newA, NONE, c(60, 500))],
      kind: 'unclear',
    },
    {
      name: 'low traffic everywhere',
      pods: [pod(oldA, c(0, 100), c(0, 20)), pod(newA, NONE, c(2, 20))],
      kind: 'unclear',
    },
  ] as const)('$name: $kind', ({ pods, kind }) => {
    const s = split([...pods]);
    expect(s?.kind).toBe(kind);
    expect(s?.by).toBe('replicasets');
  });

  it('no pods (no pod label): no split at all', () => {
    expect(split([])).toBeUndefined();
  });

  it('counts each side and says which pods and revisions, naming the failing pods', () => {
    const s = split([pod(oldA, c(15, 3000), c(50, 600)), pod(oldB, c(15, 3000), c(45, 600)), pod(newA, NONE, c(2, 500))]);
    expect(s?.oldPods).toMatchObject({ pods: [oldA, oldB], revisions: [6], counts: { k: 95, n: 1200 } });
    expect(s?.newPods).toMatchObject({ pods: [newA], revisions: [7], counts: { k: 2, n: 500 } });
    expect(s?.baseline).toEqual({ k: 30, n: 6000 });
    expect(s?.evidence).toContain(`${oldA}, ${oldB}`);
    expect(s?.evidence).toMatch(/pods that predate the deploy \(2 pods, revision 6: .*\) at 7\.9% \(95 of 1200\)/);
    expect(s?.evidence).toMatch(/rolling back to their code is not a fix/);
  });

  it('a pod of another ReplicaSet (a canary Deployment serving the same service) is left out and named', () => {
    const canary = 'checkout-canary-5f6d7c8b9-zzzzz';
    const s = split([pod(oldA, c(15, 3000), c(2, 600)), pod(oldB, c(15, 3000), c(3, 600)), pod(newA, NONE, c(60, 500)), pod(canary, NONE, c(200, 500))]);
    expect(s?.unplaced).toEqual([canary]);
    expect(s?.newPods.counts).toEqual({ k: 60, n: 500 });
    expect(s?.evidence).toContain(`left out: ${canary}`);
  });

  it('matches pods of a long ReplicaSet name by the 58-character prefix the name generator keeps', () => {
    const longRs = `${'a'.repeat(60)}-7d9f5c8b6`;
    const podName = `${`${longRs}-`.slice(0, 58)}x1y2z`;
    const s = split([pod(oldA, c(15, 3000), c(2, 600)), pod(oldB, c(15, 3000), c(3, 600)), pod(podName, NONE, c(60, 500))], [{ name: OLD_RS, revision: 6 }, { name: longRs, revision: 7 }]);
    expect(s?.newPods.pods).toEqual([podName]);
    expect(s?.kind).toBe('new-revision');
  });

  it('without ReplicaSets, pods first seen after the deploy start are the new revision; one first seen in the deploy\'s own interval is left out', () => {
    const s = split(
      [pod(oldA, c(15, 3000), c(2, 600)), pod(oldB, c(15, 3000), c(3, 600)), pod('web-1', NONE, c(60, 500), 'after'), pod('web-2', NONE, c(30, 250), 'unclear')],
      [],
    );
    expect(s).toMatchObject({ kind: 'new-revision', by: 'first-appearance', unplaced: ['web-2'] });
    expect(s?.newPods.pods).toEqual(['web-1']);
    expect(s?.evidence).toMatch(/pods placed by when their series first appeared/);
  });

  it('a stricter significance asks for more evidence before it places the errors', () => {
    const pods = [pod(oldA, c(10, 2000), c(1, 400)), pod(newA, NONE, c(10, 120))];
    expect(split(pods)?.kind).toBe('new-revision');
    expect(split(pods, replicaSets, { ...DEFAULT_POLICY, thresholds: { ...DEFAULT_POLICY.thresholds, significance: 1e-9 } })?.kind).toBe('unclear');
  });
});

describe('R1 window with the split', () => {
  const inInterval = errorRegression({ onset: T0 - 10_000, onsetUncertaintyMs: 15_000 });
  const newOnly = split([pod(oldA, c(15, 3000), c(2, 600)), pod(oldB, c(15, 3000), c(3, 600)), pod(newA, NONE, c(60, 500)), pod(newB, NONE, c(55, 500))]);

  it('errors in the new pods only make an onset inside the deploy\'s interval met, and the rollback automatic', () => {
    const without = decide(cleanInput({ regression: inInterval }));
    expect(without.conditions.window.status).toBe('unknown');
    const d = decide(cleanInput({ regression: inInterval, revisionSplit: newOnly }));
    expect(d.conditions.window.status).toBe('met');
    expect(d.conditions.window.evidence).toMatch(/the errors come from the new revision, so the regression cannot predate the deploy/);
    expect(d.verdict).toBe('auto');
  });

  it.each([
    ['just after the deploy start', 4_000],
    ['half a minute after it, close enough that the scrapes were read', 40_000],
  ])('errors in the new pods only make an onset %s met even when the scrapes cannot tell its side', (_, after) => {
    const justAfter = errorRegression({ onset: T0 + after, onsetUncertaintyMs: 15_000 });
    const undetermined = { ...justAfter, onsetInStep: { verdict: 'undetermined' as const, evidence: 'too few to tell' } };
    expect(decide(cleanInput({ regression: undetermined })).conditions.window.status).toBe('unknown');
    const d = decide(cleanInput({ regression: undetermined, revisionSplit: newOnly }));
    expect(d.conditions.window.status).toBe('met');
    expect(d.verdict).toBe('auto');
  });

  it('an onset well after the deploy start is the grid\'s to judge, split or not', () => {
    const late = errorRegression({ onset: T0 + 20 * 60_000, onsetUncertaintyMs: 15_000 });
    const d = decide(cleanInput({ regression: late, revisionSplit: newOnly }));
    expect(d.conditions.window.evidence).not.toMatch(/located to the interval that holds the deploy start/);
  });

  it('an onset clearly before the deploy stays unmet: the split cannot overrule pre-deploy data (F1)', () => {
    const d = decide(cleanInput({ regression: errorRegression({ onset: T0 - 20 * 60_000, onsetUncertaintyMs: 15_000 }), revisionSplit: newOnly }));
    expect(d.conditions.window.status).toBe('unmet');
    expect(d.verdict).toBe('suggest');
  });

  it('a latency-only regression gains nothing from the 5xx split', () => {
    const d = decide(cleanInput({ regression: { ...inInterval, signal: 'latency' }, revisionSplit: newOnly }));
    expect(d.conditions.window.status).toBe('unknown');
  });

  it.each(['old-revision', 'both', 'unclear'] as const)('a split of kind %s leaves the onset judgement as it was', (kind) => {
    const d = decide(cleanInput({ regression: inInterval, revisionSplit: newOnly && { ...newOnly, kind } }));
    expect(d.conditions.window.status).toBe('unknown');
  });
});

describe('R2 same service with the split', () => {
  const oldOnly = split([pod(oldA, c(15, 3000), c(50, 600)), pod(oldB, c(15, 3000), c(45, 600)), pod(newA, NONE, c(2, 500))]);
  const both = split([pod(oldA, c(15, 3000), c(50, 600)), pod(newA, NONE, c(60, 500))]);

  it('errors in the old pods only after a deploy are never auto, and the evidence names the pods', () => {
    const d = decide(cleanInput({ revisionSplit: oldOnly }));
    expect(d.conditions.sameService.status).toBe('unmet');
    expect(d.conditions.sameService.evidence).toContain(oldA);
    expect(d.verdict).toBe('suggest');
    expect(d.summary).toMatch(/R2 same service is not met/);
  });

  it('errors in both revisions: said, the verdict unchanged', () => {
    const d = decide(cleanInput({ revisionSplit: both }));
    expect(d.conditions.sameService).toMatchObject({ status: 'met' });
    expect(d.conditions.sameService.evidence).toMatch(/both revisions rose/);
    expect(d.verdict).toBe('auto');
    expect(d.revisionSplit?.kind).toBe('both');
  });

  it('no split (no pod label): the decision is exactly the one without it (F1)', () => {
    const { revisionSplit: _none, ...plain } = decide(cleanInput({ revisionSplit: undefined }));
    expect(_none).toBeUndefined();
    expect(plain).toEqual(decide(cleanInput()));
  });
});

// Raw counters as a source returns them: one request series per pod and status, scraped every 15 s.
const STEP = 15_000;
const policy15: Policy = { ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, stepMs: STEP } };

function counters(podName: string, from: number, to: number, rps: number, share: (t: number) => number): CounterSeries[] {
  const ok: [number, number][] = [];
  const err: [number, number][] = [];
  let okTotal = 0;
  let errTotal = 0;
  for (let t = from; t <= to; t += STEP) {
    const n = rps * (STEP / 1000);
    const k = Math.round(n * share(t));
    okTotal += n - k;
    errTotal += k;
    ok.push([t, okTotal]);
    err.push([t, errTotal]);
  }
  return [
    { labels: { pod: podName, code: '200' }, samples: ok },
    { labels: { pod: podName, code: '500' }, samples: err },
  ];
}

function raw(series: CounterSeries[], podLabel = 'pod'): RawServiceSeries {
  const errors = series.filter((s) => s.labels.code === '500');
  const pods = seriesByPod(series, errors, podLabel);
  return { namespace: 'shop', service: 'checkout', requests: series, errors, latency: [], ...(pods ? { pods } : {}) };
}

describe('R1 split from raw counters (what the sources return)', () => {
  const deployStart = T0 + 5_000;
  const now = T0 + 3 * 60_000;
  const history = T0 - 35 * 60_000 + 2_000;
  const newPodsFrom = T0 + 22_000;
  const fleet = (newShare: number, oldShare: number) => [
    ...counters(oldA, history, now, 20, (t) => (t > deployStart ? oldShare : 0.005)),
    ...counters(oldB, history, now, 20, (t) => (t > deployStart ? oldShare : 0.005)),
    ...counters(newA, newPodsFrom, now, 20, () => newShare),
  ];
  const regression = errorRegression({ onset: T0, onsetUncertaintyMs: 7_500 });

  it.each([
    { name: 'new pods failing', newShare: 0.12, oldShare: 0.005, kind: 'new-revision' },
    { name: 'old pods failing', newShare: 0.005, oldShare: 0.12, kind: 'old-revision' },
    { name: 'both failing', newShare: 0.12, oldShare: 0.12, kind: 'both' },
  ])('$name: $kind, by ReplicaSets or by first appearance alike', ({ newShare, oldShare, kind }) => {
    const series = raw(fleet(newShare, oldShare));
    const byRs = revisionSplitOf({ series, regression, deployStart, now, policy: policy15, replicaSets });
    const byAppearance = revisionSplitOf({ series, regression, deployStart, now, policy: policy15 });
    expect(byRs?.kind).toBe(kind);
    expect(byAppearance?.kind).toBe(kind);
    expect(byAppearance?.newPods.pods).toEqual([newA]);
    expect(byAppearance?.oldPods.pods).toEqual([oldA, oldB]);
  });

  it('a pod first scraped inside the interval that holds the deploy start cannot be placed by appearance', () => {
    const series = raw([...fleet(0.12, 0.005), ...counters(newB, deployStart + 3_000, now, 20, () => 0.12)]);
    const s = revisionSplitOf({ series, regression, deployStart, now, policy: policy15 });
    expect(s?.unplaced).toEqual([newB]);
    expect(s?.kind).toBe('new-revision');
  });

  it('no pod label on the series, or no regression: no split', () => {
    const series = raw(fleet(0.12, 0.005), '');
    expect(series.pods).toBeUndefined();
    expect(revisionSplitOf({ series, regression, deployStart, now, policy: policy15, replicaSets })).toBeUndefined();
    expect(revisionSplitOf({ series: raw(fleet(0.12, 0.005)), regression: undefined, deployStart, now, policy: policy15, replicaSets })).toBeUndefined();
  });

  it('series without the pod label among ones with it (an aggregate): no grouping at all', () => {
    const mixed = [...fleet(0.12, 0.005), { labels: { code: '200' }, samples: [[T0, 1]] as [number, number][] }];
    expect(seriesByPod(mixed, [], 'pod')).toBeUndefined();
  });
});

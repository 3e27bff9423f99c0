import { formatInstant } from './duration.js';
import { pct } from './handoff-recovery.js';
import type { Policy } from './policy.js';
import { detectionGrid } from './regression.js';
import { alignSeries, type CounterSeries, type Grid, type PodSeries, type RawServiceSeries } from './regression-series.js';
import type { Regression } from './regression-types.js';
import { addCounts, dispersion, share, testBelowRate, testHigherRate, ZERO_COUNTS, type Counts } from './stats-binomial.js';

// The 5xx share split by revision (R1, R2, R9): pods are named `<replicaset>-<suffix>`, so the
// series' pod label says which ReplicaSet served each request. Errors concentrated in the new
// revision's pods while the pods that predate the deploy stay under the threshold cannot predate
// the deploy; errors in the old pods alone are not a case for rolling back to them. Without
// ReplicaSets a pod whose series first appear after the deploy start belongs to the new revision.
// Every claim is a test on counts at the policy's significance; when the tests do not all agree
// the split says what it saw and changes nothing (F1).

/** A ReplicaSet of the deployed Deployment and its revision (the `deployment.kubernetes.io/revision` annotation). */
export interface ReplicaSetRevision {
  name: string;
  revision: number | undefined;
}

/** Where a pod's series first appear against the deploy start, at the grid's resolution. */
export type Appearance = 'before' | 'after' | 'unclear';

/** One pod's 5xx counts before the deploy and over the regression. */
export interface PodCounts {
  pod: string;
  baseline: Counts;
  regression: Counts;
  appeared: Appearance;
}

/**
 * `new-revision`: the errors come from the new revision's pods, the older pods are under the
 * threshold and not above their baseline. `old-revision`: the older pods regressed, the new ones
 * did not. `both`: both did. `unclear`: the counts do not tell.
 */
export type SplitKind = 'new-revision' | 'old-revision' | 'both' | 'unclear';

export interface RevisionGroup {
  pods: string[];
  /** Revisions of the pods' ReplicaSets, when known. */
  revisions: number[];
  /** 5xx of requests over the regression. */
  counts: Counts;
  /** p-value of "this group's 5xx share is no higher than the baseline's". */
  pValue: number;
}

export interface RevisionSplit {
  kind: SplitKind;
  /** How pods were placed: by their ReplicaSet's revision, or by when their series first appeared. */
  by: 'replicasets' | 'first-appearance';
  newPods: RevisionGroup;
  oldPods: RevisionGroup;
  /** Every pod's 5xx before the deploy (all of them the old revision's then). */
  baseline: Counts;
  /** Pods placed on neither side (another ReplicaSet's name, or first seen in the deploy's own interval). */
  unplaced: string[];
  /** Start of the span the regression counts cover (epoch ms). */
  since: number;
  evidence: string;
}

export interface SplitInput {
  pods: readonly PodCounts[];
  /** The Deployment's ReplicaSets; without any, pods are placed by first appearance. */
  replicaSets?: readonly ReplicaSetRevision[] | undefined;
  /** Extra-binomial noise of the baseline (≥ 1), as the detector's tests use it. */
  dispersion: number;
  policy: Policy;
  since: number;
}

/** The Kubernetes name generator keeps at most this much of a generateName prefix. */
const MAX_PREFIX = 58;
const SUFFIX = 5;

/** The ReplicaSet a pod belongs to by name, when exactly one matches. */
function replicaSetOf(pod: string, replicaSets: readonly ReplicaSetRevision[]): ReplicaSetRevision | undefined {
  const owners = replicaSets.filter((rs) => {
    const prefix = `${rs.name}-`.slice(0, MAX_PREFIX);
    return pod.startsWith(prefix) && pod.length === prefix.length + SUFFIX;
  });
  return owners.length === 1 ? owners[0] : undefined;
}

type Side = { side: 'new' | 'old'; revision?: number } | undefined;

function placer(replicaSets: readonly ReplicaSetRevision[] | undefined): { by: RevisionSplit['by']; place: (p: PodCounts) => Side } {
  const known = (replicaSets ?? []).filter((rs) => rs.revision !== undefined);
  if (known.length === 0) {
    return { by: 'first-appearance', place: (p) => (p.appeared === 'after' ? { side: 'new' } : p.appeared === 'before' ? { side: 'old' } : undefined) };
  }
  const newest = Math.max(...known.map((rs) => rs.revision ?? 0));
  return {
    by: 'replicasets',
    place: (p) => {
      const revision = replicaSetOf(p.pod, known)?.revision;
      return revision === undefined ? undefined : { side: revision === newest ? 'new' : 'old', revision };
    },
  };
}

function group(pods: readonly { p: PodCounts; revision?: number | undefined }[], baseline: Counts, phi: number): RevisionGroup {
  const counts = pods.reduce((acc, { p }) => addCounts(acc, p.regression), ZERO_COUNTS);
  const revisions = [...new Set(pods.flatMap(({ revision }) => (revision === undefined ? [] : [revision])))].sort((a, b) => a - b);
  return { pods: pods.map(({ p }) => p.pod).sort(), revisions, counts, pValue: testHigherRate(counts, baseline, phi).pValue };
}

const pText = (p: number): string => (p === 0 ? 'p<1e-300' : `p=${p.toPrecision(2)}`);

function podNames(pods: readonly string[]): string {
  const shown = pods.slice(0, 4).join(', ');
  return pods.length > 4 ? `${shown} and ${pods.length - 4} more` : shown;
}

function describe(g: RevisionGroup, what: string, named: boolean): string {
  const revisions = g.revisions.length > 0 ? `, revision ${g.revisions.join(', ')}` : '';
  const who = named && g.pods.length > 0 ? `: ${podNames(g.pods)}` : '';
  if (g.counts.n <= 0) return `${what} (${g.pods.length} pods${revisions}) had no requests`;
  return `${what} (${g.pods.length} pod${g.pods.length === 1 ? '' : 's'}${revisions}${who}) at ${pct(share(g.counts))} (${Math.round(g.counts.k)} of ${Math.round(g.counts.n)})`;
}

function evidenceOf(kind: SplitKind, s: Omit<RevisionSplit, 'kind' | 'evidence'>, belowThreshold: number, errorRate: number): string {
  const head = `5xx by revision since ${formatInstant(s.since)}`;
  const baseline = `${pct(share(s.baseline))} before the deploy`;
  const byWhat = s.by === 'replicasets' ? '' : ' (pods placed by when their series first appeared)';
  const left = s.unplaced.length > 0 ? `; left out: ${podNames(s.unplaced)}` : '';
  const newer = describe(s.newPods, 'new pods', kind === 'new-revision');
  const older = describe(s.oldPods, 'pods that predate the deploy', kind !== 'new-revision');
  switch (kind) {
    case 'new-revision':
      return `${head}${byWhat}: ${newer} against ${older}, under the ${pct(errorRate)} threshold (${pText(belowThreshold)}) and not above their ${baseline}: the errors come from the new revision, so the regression cannot predate the deploy${left}`;
    case 'old-revision':
      return `${head}${byWhat}: ${older} against ${baseline} (${pText(s.oldPods.pValue)}), while the ${newer}: the pods that predate the deploy are failing, so rolling back to their code is not a fix (a shared dependency, or data the new code wrote that the old code cannot read?)${left}`;
    case 'both':
      return `${head}${byWhat}: both revisions rose above the ${baseline}: ${newer} (${pText(s.newPods.pValue)}), ${older} (${pText(s.oldPods.pValue)}): not the new revision alone${left}`;
    case 'unclear':
      return `${head}${byWhat}: ${newer}, ${older}, ${baseline}: not enough to tell which revision the errors come from${left}`;
  }
}

/** The split of the 5xx share by revision over the regression; undefined without pods (F1: nothing changes). */
export function splitByRevision(input: SplitInput): RevisionSplit | undefined {
  if (input.pods.length === 0) return undefined;
  const { by, place } = placer(input.replicaSets);
  const phi = Math.max(1, input.dispersion);
  const alpha = input.policy.thresholds.significance;
  const baseline = input.pods.reduce((acc, p) => addCounts(acc, p.baseline), ZERO_COUNTS);
  const placed = input.pods.map((p) => ({ p, at: place(p) }));
  const side = (which: 'new' | 'old') => placed.flatMap(({ p, at }) => (at?.side === which ? [{ p, revision: at.revision }] : []));
  const newPods = group(side('new'), baseline, phi);
  const oldPods = group(side('old'), baseline, phi);
  const unplaced = placed.filter(({ at }) => at === undefined).map(({ p }) => p.pod).sort();
  const newUp = newPods.pValue < alpha;
  const oldUp = oldPods.pValue < alpha;
  // Every claim must hold on its own at the significance (an intersection-union test: no correction).
  const belowThreshold = testBelowRate(oldPods.counts, input.policy.thresholds.errorRate, phi).pValue;
  const concentrated = testHigherRate(newPods.counts, oldPods.counts, phi).pValue < alpha;
  const kind: SplitKind =
    newUp && oldUp ? 'both' : oldUp ? 'old-revision' : newUp && concentrated && belowThreshold < alpha ? 'new-revision' : 'unclear';
  const parts = { by, newPods, oldPods, baseline, unplaced, since: input.since };
  return { kind, ...parts, evidence: evidenceOf(kind, parts, belowThreshold, input.policy.thresholds.errorRate) };
}

/** Where a pod's first sample lies against the deploy start, on the grid (the same for every source). */
function appearance(requests: readonly CounterSeries[], grid: Grid, deployStart: number): Appearance {
  const first = Math.min(...requests.map((s) => s.samples[0]?.[0] ?? Infinity));
  if (first <= grid.start) return 'before';
  const intervalStart = grid.start + (Math.ceil((first - grid.start) / grid.stepMs) - 1) * grid.stepMs;
  if (intervalStart + grid.stepMs <= deployStart) return 'before';
  return intervalStart >= deployStart ? 'after' : 'unclear';
}

function sumCounts(intervals: readonly { requests: number; errors: number }[]): Counts {
  return intervals.reduce((acc, iv) => addCounts(acc, { k: iv.errors, n: iv.requests }), ZERO_COUNTS);
}

/** Each pod's counts on the detection grid: before the deploy, and in the intervals ending after `since`. */
export function podCounts(pods: readonly PodSeries[], grid: Grid, deployStart: number, since: number): PodCounts[] {
  // A pod first seen after the evaluation time is not known yet (no hindsight).
  const seen = pods.filter((p) => p.requests.some((s) => (s.samples[0]?.[0] ?? Infinity) <= grid.end));
  return seen.map((p) => {
    const aligned = alignSeries({ namespace: '', service: '', requests: p.requests, errors: p.errors, latency: [] }, grid);
    return {
      pod: p.pod,
      baseline: sumCounts(aligned.intervals.filter((iv) => iv.end <= deployStart)),
      regression: sumCounts(aligned.intervals.filter((iv) => iv.end > since)),
      appeared: appearance(p.requests, grid, deployStart),
    };
  });
}

export interface RevisionSplitRequest {
  series: RawServiceSeries;
  regression: Regression | undefined;
  deployStart: number;
  now: number;
  policy: Policy;
  replicaSets?: readonly ReplicaSetRevision[] | undefined;
}

/**
 * The split for a detected regression, from the series the detector read; undefined when nothing
 * regressed or the series carry no pod label.
 */
export function revisionSplitOf(req: RevisionSplitRequest): RevisionSplit | undefined {
  const pods = req.series.pods;
  if (pods === undefined || pods.length === 0 || req.regression?.signal === undefined) return undefined;
  const grid = detectionGrid(req.deployStart, req.now, req.policy);
  const since = Math.max(req.regression.onset ?? req.deployStart, req.deployStart);
  const before = alignSeries(req.series, grid).intervals.filter((iv) => iv.end <= req.deployStart);
  return splitByRevision({
    pods: podCounts(pods, grid, req.deployStart, since),
    replicaSets: req.replicaSets,
    dispersion: dispersion(before.map((iv) => ({ k: iv.errors, n: iv.requests }))),
    policy: req.policy,
    since,
  });
}

/** What each kind of split says, in a few words. */
export const SPLIT_CONCLUSION: Record<SplitKind, string> = {
  'new-revision': 'the errors come from the new revision',
  'old-revision': 'the errors come from the pods that predate the deploy',
  both: 'both revisions fail',
  unclear: 'not enough to tell which revision the errors come from',
};

/** One row per side, for the signal section of a page or a message. */
export function splitRows(s: RevisionSplit): { label: string; pods: number; revisions: string; share: string; requests: number }[] {
  const row = (label: string, g: RevisionGroup) => ({
    label,
    pods: g.pods.length,
    revisions: g.revisions.join(', '),
    share: g.counts.n > 0 ? pct(share(g.counts)) : 'no requests',
    requests: Math.round(g.counts.n),
  });
  return [row('new pods', s.newPods), row('pods that predate the deploy', s.oldPods)];
}

/** The split in one line: "new pods 12.0% of 500 (1 pod, revision 7) · …: the errors come from the new revision". */
export function splitSummary(s: RevisionSplit): string {
  const rows = splitRows(s).map((r) => `${r.label} ${r.share}${r.requests > 0 ? ` of ${r.requests}` : ''} (${r.pods} pod${r.pods === 1 ? '' : 's'}${r.revisions === '' ? '' : `, revision ${r.revisions}`})`);
  return `${rows.join(' · ')} · ${pct(share(s.baseline))} before the deploy: ${SPLIT_CONCLUSION[s.kind]}`;
}

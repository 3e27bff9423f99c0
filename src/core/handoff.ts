import { ANNOTATIONS } from './annotations.js';
import type { OwnerInfo } from './decision-types.js';
import { diffDeployment } from './deployment-diff.js';
import { assessCause, SAME_MOMENT_STEPS } from './handoff-cause.js';
import { bandOf, describeBand, recoveryStatus, traceRecovery, type Trace } from './handoff-recovery.js';
import type { Handoff, HandoffChangeSet, HandoffInput, NeighbourRecovery, RevisionFacts, RevisionInput } from './handoff-types.js';
import type { Policy } from './policy.js';
import { countBefore, evaluateErrors } from './regression-evaluate.js';
import { DEFAULT_STEP_MS, detectionGrid } from './regression.js';
import { alignSeries, type AlignedSeries, type Grid, type RawServiceSeries } from './regression-series.js';
import { splitSummary } from './revision-split.js';
import { dispersion, share } from './stats-binomial.js';

export type * from './handoff-types.js';

// R9: the handoff after an automatic rollback: the change set that was rolled back, the signal
// that triggered it, the error rate since, and whether the rollback is what fixed it. Pure: the
// series come in as the metric source returned them and the time is a parameter.

export const CHANGE_CAUSE = 'kubernetes.io/change-cause';

/** The grid the series are fetched and aligned on: the detection grid, baseline included, up to now. */
export function handoffGrid(deployStart: number, now: number, policy: Policy): Grid {
  return detectionGrid(deployStart, now, policy);
}

function factsOf(r: RevisionInput): RevisionFacts {
  const a = r.annotations;
  return { revision: r.revision, commit: a[ANNOTATIONS.commit.key], pullRequest: a[ANNOTATIONS.pullRequest.key], changeCause: a[CHANGE_CAUSE] };
}

function changeSetOf(input: HandoffInput): HandoffChangeSet {
  const diff = diffDeployment({ spec: { template: input.restored.template } }, { spec: { template: input.rolledBack.template } });
  const rolledBack = factsOf(input.rolledBack);
  const restored = factsOf(input.restored);
  const rev = (n: number | undefined) => (n === undefined ? 'an unknown revision' : `revision ${n}`);
  const images = diff.images.map((i) => `${i.container} ${i.before ?? '(none)'} → ${i.after ?? '(none)'}`);
  const what = images.length > 0 ? `the deploy changed ${images.join(', ')}` : `the deploy changed ${diff.parts.join(', ') || 'nothing visible in the template'}`;
  const from = [rolledBack.commit === undefined ? undefined : `commit ${rolledBack.commit}`, rolledBack.pullRequest].filter((x) => x !== undefined);
  return {
    rolledBack,
    restored,
    images: diff.images,
    parts: diff.parts,
    summary: `rolled back ${rev(rolledBack.revision)}${from.length > 0 ? ` (${from.join(', ')})` : ''} to ${rev(restored.revision)}: ${what}`,
  };
}

function ownerNotes(owner: OwnerInfo, namespace: string): string[] {
  if (owner.kind === 'helm') {
    const release = owner.name ?? 'the release';
    return [`Helm release ${release} still holds the rolled-back revision: the next helm upgrade brings the change back; helm rollback ${release} -n ${owner.namespace ?? namespace} is the durable route`];
  }
  if (owner.reconciles) return [`${owner.kind === 'argocd' ? 'Argo CD' : 'Flux'} reconciles this Deployment and may put the change back; its way back: ${owner.route.join('; ')}`];
  return [];
}

const stepStart = (end: number, stepMs: number): number => end - stepMs;

function phiOf(aligned: AlignedSeries, deployStart: number): number {
  return dispersion(aligned.intervals.slice(0, countBefore(aligned.intervals, deployStart)).map((iv) => ({ k: iv.errors, n: iv.requests })));
}

/**
 * A neighbour in a breach when this service came back (or at the rollback, if it has not), and
 * whether it came back at the same moment.
 */
function neighbourOf(series: RawServiceSeries, grid: Grid, input: HandoffInput, own: Trace): NeighbourRecovery | undefined {
  const aligned = alignSeries(series, grid);
  const asOf = Math.min(input.rollbackAt, own.lowSince ?? Infinity);
  const upTo = aligned.intervals.filter((iv) => iv.end <= asOf);
  const ev = evaluateErrors(upTo, input.deployStart, input.policy);
  if (!ev.breach) return undefined;
  const baseline = share(ev.baseline);
  const incident = share(ev.current);
  const onsetIv = ev.onsetIndex === undefined ? undefined : upTo[ev.onsetIndex];
  const from = onsetIv === undefined ? input.deployStart : stepStart(onsetIv.end, grid.stepMs);
  const trace = traceRecovery(aligned.intervals, from, bandOf(baseline, incident, input.policy.thresholds.errorRate), phiOf(aligned, input.deployStart), grid.stepMs);
  const sameMoment = own.lowSince !== undefined && trace.lowSince !== undefined && Math.abs(trace.lowSince - own.lowSince) <= SAME_MOMENT_STEPS * grid.stepMs;
  return { service: series.service, baseline, incident, backInBandSince: trace.lowSince, sameMoment };
}

export function computeHandoff(input: HandoffInput): Handoff {
  const { policy, regression } = input;
  const grid = handoffGrid(input.deployStart, input.now, policy);
  const stepMs = policy.metrics.stepMs ?? DEFAULT_STEP_MS;
  const threshold = policy.thresholds.errorRate;
  const aligned = alignSeries(input.series, grid);
  const intervals = aligned.intervals;
  const e = regression.errorRate;
  const band = e === undefined ? undefined : bandOf(e.baseline, e.current, threshold);
  const onset = regression.onset ?? input.deployStart;
  const emptyTrace: Trace = { lowSince: undefined, last: undefined, previousShare: undefined };
  const trace = band === undefined ? emptyTrace : traceRecovery(intervals, onset, band, phiOf(aligned, input.deployStart), stepMs);
  const lastEnd = intervals[intervals.length - 1]?.end ?? input.now;

  const st = band === undefined || e === undefined
    ? { status: 'unknown' as const, sinceRollback: undefined, recent: undefined, evidence: ['the triggering regression carried no error-rate counts to compare with (F1)'] }
    : recoveryStatus({
        since: intervals.filter((iv) => stepStart(iv.end, stepMs) >= input.rollbackAt),
        trace,
        band,
        bandText: describeBand(band, e.baseline, threshold),
        rollbackAt: input.rollbackAt,
        stepMs,
        minRequests: policy.thresholds.minRequests,
        lastEnd,
      });
  const evidence = input.metricsProblem === undefined ? st.evidence : [`the metrics could not be read: ${input.metricsProblem}`];
  const status = input.metricsProblem === undefined ? st.status : 'unknown';
  const neighbours = input.neighbours.flatMap((s) => (s.service === input.series.service ? [] : (neighbourOf(s, grid, input, trace) ?? [])));
  const cause = assessCause({
    service: input.series.service,
    status,
    statusEvidence: evidence,
    lowSince: trace.lowSince,
    rollbackAt: input.rollbackAt,
    rollout: input.rollbackRollout,
    lastEnd,
    stepMs,
    neighbours,
    split: input.revisionSplit,
  });
  return {
    namespace: input.namespace,
    deployment: input.deployment,
    service: input.series.service,
    at: input.now,
    changeSet: changeSetOf(input),
    signal: {
      service: input.series.service,
      threshold,
      baseline: e?.baseline,
      triggering: e?.current,
      onset: regression.onset,
      deployStart: input.deployStart,
      deployComplete: input.deployComplete,
      rollbackAt: input.rollbackAt,
      rollbackComplete: input.rollbackRollout.state === 'complete' ? input.rollbackRollout.at : undefined,
      stepMs,
      points: intervals.filter((iv) => iv.requests > 0).map((iv) => ({ t: iv.end, v: iv.errors / iv.requests })),
      ...(input.revisionSplit === undefined ? {} : { byRevision: splitSummary(input.revisionSplit) }),
    },
    recovery: { status, band, sinceRollback: st.sinceRollback, recent: st.recent, backInBandSince: trace.lowSince, evidence },
    neighbours,
    assessment: { kind: cause.kind, evidence: cause.evidence },
    settled: cause.settled,
    notes: ownerNotes(input.owner, input.namespace),
  };
}

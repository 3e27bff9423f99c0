import { decide } from '../core/decide.js';
import { evaluationSpanEnd, windowEnd } from '../core/evaluation-span.js';
import type { Decision, DecisionInput } from '../core/decision-types.js';
import type { Deployment, WorkloadRef } from '../core/kube.js';
import type { Policy } from '../core/policy.js';
import { withDeployedIn, type SeriesMatch } from '../core/metric-match.js';
import type { Regression } from '../core/regression-types.js';
import { serviceOf } from '../core/service.js';
import { detectFromSource, firstDetectionFromSource, firstNeighbourDetection } from '../metrics/detect.js';
import { replicaSetsAt } from '../timeline/audit-replicasets.js';
import type { MetricSource } from '../metrics/source.js';
import { deployAsOf, eventsAsOf, type DeployRecord } from '../timeline/deploys.js';
import type { ChangeEvent } from '../core/change-events.js';
import { guessedCoverage, withinLogSpan, type CoverageSource } from './coverage.js';
import type { ReplayTimeline } from './extract.js';

// What rollguard would have decided for each deploy in an audit log. No hindsight: for every
// deploy, detection scans the metrics step by step from the deploy on, and the decision is made at
// the first moment the regression was detectable (or at the end of the deploy's window when none
// was), from the timeline and metrics as they stood at that moment.


export interface ReplayedDeploy {
  record: DeployRecord;
  service: string;
  decision: Decision;
  /** When the decision was made: first detection, else the end of the evaluation span. */
  decidedAt: number;
  /** When the regression became detectable; undefined when it never did. */
  detectedAt: number | undefined;
  /** End of the span this deploy was evaluated over. */
  until: number;
  regression: Regression;
  neighbours: Regression[];
  /** How the deployed service's metric selector matched, when not exactly (R5 evidence, the summary). */
  match: SeriesMatch | undefined;
}

export interface ReplayDecisionOptions {
  policyFor: (namespace: string) => Policy;
  source: MetricSource;
  /** The source under a namespace policy's `metrics` section (its labels); `source` for every one when unset. */
  sourceFor?: (policy: Policy) => MetricSource;
  /** What the log can tell per deploy; default: guessed from what the log mentions. */
  coverage?: CoverageSource | undefined;
  /** Only deploys that started in [from, to]. */
  from?: number | undefined;
  to?: number | undefined;
}

/** The evaluation span: past the end of the R1 window, cut short by the next template change. */
export function evaluationEnd(record: DeployRecord, next: DeployRecord | undefined, policy: Policy): number {
  const end = evaluationSpanEnd(record.start, record.completeAt, policy);
  return next === undefined ? end : Math.min(end, next.start);
}

function latestTemplates(deploys: readonly DeployRecord[], namespace: string, except: string, at: number): WorkloadRef[] {
  const latest = new Map<string, DeployRecord>();
  for (const d of deploys) if (d.namespace === namespace && d.name !== except && d.start <= at) latest.set(d.name, d);
  return [...latest.values()].map((d) => ({ kind: 'Deployment', namespace, name: d.name, template: (d.after ?? d.before)?.spec?.template }));
}

function blackoutUntil(events: readonly ChangeEvent[], record: DeployRecord, at: number, policy: Policy): number | undefined {
  let until: number | undefined;
  for (const e of events) {
    // A rollback starts a blackout for the Deployment, its own rollout included (R8).
    if (e.type === 'rollback' && e.namespace === record.namespace && e.name === record.name && e.at <= at && e.at <= record.start) {
      until = e.at + policy.blackoutMs;
    }
  }
  return until !== undefined && until > at ? until : undefined;
}

/** The timeline's events grouped by namespace, in timeline order; one grouping per events array. */
const byNamespace = new WeakMap<readonly ChangeEvent[], Map<string, ChangeEvent[]>>();

// A replay decides each deploy at least once, often once per step: filtering every event of the log
// each time made deciding quadratic (4 s of 13 for a million-line log).
function eventsOfNamespace(events: readonly ChangeEvent[], namespace: string): readonly ChangeEvent[] {
  let groups = byNamespace.get(events);
  if (groups === undefined) {
    groups = new Map();
    for (const e of events) {
      const group = groups.get(e.namespace);
      if (group === undefined) groups.set(e.namespace, [e]);
      else group.push(e);
    }
    byNamespace.set(events, groups);
  }
  return groups.get(namespace) ?? [];
}

export function decisionInput(
  timeline: Pick<ReplayTimeline, 'events' | 'deploys' | 'observed' | 'span'>,
  record: DeployRecord,
  at: number,
  policy: Policy,
  regression: Regression | undefined,
  neighbours: readonly Regression[],
  coverageOf: CoverageSource = guessedCoverage(timeline.observed),
): DecisionInput {
  const { coverage, doubts } = withinLogSpan(coverageOf(record), timeline.span, record, policy);
  const namespaceEvents = eventsOfNamespace(timeline.events, record.namespace);
  const current: Deployment = record.after ?? record.before ?? { metadata: { name: record.name, namespace: record.namespace } };
  return {
    now: at,
    policy,
    deploy: deployAsOf(record, at),
    current,
    events: eventsAsOf(namespaceEvents, at),
    // What a write changed may still be unknown (a Metadata-level record): the timeline says so.
    coverage,
    doubts,
    regression,
    neighbours,
    revision: record.revision,
    blackoutUntil: blackoutUntil(namespaceEvents, record, at, policy),
    workloads: latestTemplates(timeline.deploys, record.namespace, record.name, at),
    trafficShare: undefined,
  };
}

function windowEndOf(record: DeployRecord, policy: Policy): number {
  return windowEnd(record.start, record.completeAt, policy);
}

/**
 * R2: a regression of another service in the namespace that began inside this deploy's R1 window,
 * unless that service's own deploy explains it (the onset lies in that deploy's own R1 window; its
 * own row shows it).
 */
function regressionElsewhere(
  deploys: readonly DeployRecord[],
  record: DeployRecord,
  source: MetricSource,
  request: { namespace: string; service: string; deployStart: number; policy: Policy; until: number },
): ReturnType<typeof firstNeighbourDetection> {
  const { policy } = request;
  const windowEnd = windowEndOf(record, policy);
  const explained = (r: Regression): boolean =>
    r.onset !== undefined &&
    deploys.some(
      (d) =>
        d !== record &&
        d.namespace === record.namespace &&
        serviceOf(d.after ?? d.before ?? { metadata: { name: d.name } }, policy) === r.service &&
        d.start <= (r.onset ?? 0) &&
        (r.onset ?? 0) <= windowEndOf(d, policy),
    );
  return firstNeighbourDetection(source, { ...request, until: Math.min(request.until, windowEnd), onsetUntil: windowEnd, explained });
}

/** A `suggest` held back only because the onset is not yet placed after the deploy start (R1 unknown). */
function onlyOnsetUnplaced(d: Decision): boolean {
  const blocking = Object.entries(d.conditions).filter(([, c]) => c.status !== 'met');
  return d.verdict === 'suggest' && blocking.length === 1 && blocking[0]?.[0] === 'window' && blocking[0][1].status === 'unknown';
}

interface LaterRequest {
  namespace: string;
  service: string;
  deployStart: number;
  policy: Policy;
  until: number;
  replicaSets: ReturnType<typeof replicaSetsAt>;
  coverage: CoverageSource;
  from: number;
  /** The deployed service's regression as the first detection reads it (which Deployments it names). */
  own: (r: Regression) => Regression;
}

/**
 * The agent evaluates every step and rolls back once every condition holds, if the decision is
 * still open: each scrape after the deploy adds to what places the onset (F1's unknown can become
 * met). Replay does the same, step by step up to the evaluation end, without hindsight.
 */
async function laterAuto(
  source: MetricSource,
  timeline: Pick<ReplayTimeline, 'events' | 'deploys' | 'observed' | 'span'>,
  record: DeployRecord,
  req: LaterRequest,
): Promise<{ at: number; decision: Decision; regression: Regression; neighbours: Regression[] } | undefined> {
  const stepMs = req.policy.metrics.stepMs ?? 30_000;
  for (let at = req.from + stepMs; at <= req.until; at += stepMs) {
    const found = await detectFromSource(source, { ...req, now: at });
    const regression = req.own(found.regression);
    const decision = decide({ ...decisionInput(timeline, record, at, req.policy, regression, found.neighbours, req.coverage), revisionSplit: found.split });
    if (decision.verdict === 'auto') return { at, decision, regression, neighbours: found.neighbours };
    if (!onlyOnsetUnplaced(decision)) return undefined;
  }
  return undefined;
}

export async function replayDecisions(timeline: Pick<ReplayTimeline, 'events' | 'deploys' | 'observed' | 'span'> & Partial<Pick<ReplayTimeline, 'replicaSets'>>, options: ReplayDecisionOptions): Promise<ReplayedDeploy[]> {
  const out: ReplayedDeploy[] = [];
  const deploys = timeline.deploys;
  // Every Deployment of the replay, for telling namespaces apart on a service-only match (F1).
  const deployments = deploys.map((d): Deployment => ({ ...(d.after ?? d.before), metadata: { ...(d.after ?? d.before)?.metadata, name: d.name, namespace: d.namespace } }));
  const coverage = options.coverage ?? guessedCoverage(timeline.observed);
  // The next template change of the same Deployment, for each deploy (deploys are in time order).
  const next = new Map<DeployRecord, DeployRecord>();
  const following = new Map<string, DeployRecord>();
  for (let i = deploys.length - 1; i >= 0; i--) {
    const d = deploys[i];
    if (d === undefined) continue;
    const key = `${d.namespace}/${d.name}`;
    const after = following.get(key);
    if (after !== undefined) next.set(d, after);
    following.set(key, d);
  }
  for (const record of deploys) {
    if ((options.from !== undefined && record.start < options.from) || (options.to !== undefined && record.start > options.to)) continue;
    const policy = options.policyFor(record.namespace);
    const until = evaluationEnd(record, next.get(record), policy);
    const service = serviceOf(record.after ?? record.before ?? { metadata: { name: record.name } }, policy);
    const request = { namespace: record.namespace, service, deployStart: record.start, policy, until };
    const source = options.sourceFor?.(policy) ?? options.source;
    // The revisions as of the span's end: the next template change, the only write that gives a
    // ReplicaSet a new revision, comes after it.
    const replicaSets = replicaSetsAt(timeline.replicaSets ?? [], record.namespace, record.name, until);
    const detected = await firstDetectionFromSource(source, { ...request, replicaSets });
    const adopt = (r: Regression) => withDeployedIn(r, () => deployments, options.policyFor);
    const own = { ...detected, regression: adopt(detected.regression) };
    const found = own.at === undefined ? ((await regressionElsewhere(timeline.deploys, record, source, request)) ?? own) : own;
    const detectedAt = found.at ?? until;
    // Without ReplicaSets in the log, pods are placed by when their series first appeared.
    const revisionSplit = found === own ? own.split : undefined;
    const first = decide({ ...decisionInput(timeline, record, detectedAt, policy, found.regression, found.neighbours, coverage), revisionSplit });
    const later = found === own && found.at !== undefined && source.scrapedSamples !== undefined && onlyOnsetUnplaced(first) ? await laterAuto(source, timeline, record, { ...request, replicaSets, coverage, from: found.at, own: adopt }) : undefined;
    const decidedAt = later?.at ?? detectedAt;
    const decision = later?.decision ?? first;
    const regression = later?.regression ?? found.regression;
    const match = own.regression.match;
    out.push({ record, service, decision, decidedAt, detectedAt: found.at, until, regression, neighbours: later?.neighbours ?? found.neighbours, match });
  }
  return out;
}

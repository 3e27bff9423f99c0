import { configEvents } from '../stamps/eligibility.js';
import { trafficShareOf } from '../core/blast-radius.js';
import { decide } from '../core/decide.js';
import type { Decision, DecisionInput } from '../core/decision-types.js';
import { evaluationSpanEnd, regressionToJudge, windowEnd } from '../core/evaluation-span.js';
import type { Deployment, WorkloadRef } from '../core/kube.js';
import { withDeployedIn } from '../core/metric-match.js';
import type { Policy } from '../core/policy.js';
import type { Regression } from '../core/regression-types.js';
import type { RevisionSplit } from '../core/revision-split.js';
import { serviceOf } from '../core/service.js';
import { stampedDeploy, type StampedDeploy } from '../core/stamped-deploy.js';
import { detectFromSource } from '../metrics/detect.js';
import type { MetricSource } from '../metrics/source.js';
import type { ClusterState } from './cluster-state.js';
import type { JobRuns } from './job-runs.js';

// One evaluation of one deploy: the agent's producer of a DecisionInput, from the stamps and what
// it watches, and the same detector and decide() that replay calls. Anything it cannot see is
// unknown or a doubt, never a guess (F1).

export interface EvaluateDeps {
  state: ClusterState;
  jobRuns: JobRuns;
  policyFor: (namespace: string) => Policy;
  sourceFor: (policy: Policy) => MetricSource;
  /** Told whether the metrics could be read, and asked since when they cannot (for the evidence). */
  metricsHealth?: { ok(): void; failed(error: string): string };
}

export type Evaluation =
  | { kind: 'skipped'; why: string; view: StampedDeploy | undefined }
  | { kind: 'decided'; decision: Decision; view: StampedDeploy; regression: Regression; policy: Policy; service: string; input: DecisionInput };

/** Whether a Deployment is inside the span the agent evaluates at `now`, and why not. */
export function inSpan(view: StampedDeploy, policy: Policy, now: number): { in: boolean; why: string } {
  if (policy.mode === 'off') return { in: false, why: 'rollguard is off for this namespace' };
  const start = view.evaluationStart;
  if (start === undefined) return { in: false, why: 'no deploy start is known' };
  if (view.blackoutUntil !== undefined && view.blackoutUntil > now) return { in: false, why: 'in a post-rollback blackout (R8): not re-evaluated' };
  const end = evaluationSpanEnd(start, view.deploy.rollout.state === 'complete' ? view.deploy.rollout.at : undefined, policy);
  if (now > end) return { in: false, why: 'past the evaluation span of its last deploy' };
  return { in: true, why: 'inside its evaluation span' };
}

function workloadsIn(state: ClusterState, namespace: string, except: string): WorkloadRef[] {
  return state
    .allDeployments(namespace)
    .filter((d) => d.metadata?.name !== except)
    .map((d) => ({ kind: 'Deployment', namespace, name: d.metadata?.name ?? '', template: d.spec?.template }));
}

/** A neighbour's regression that its own deploy's R1 window accounts for. */
function explainedBy(state: ClusterState, namespace: string, self: string, policy: Policy, now: number): (r: Regression) => boolean {
  return (r) => {
    const onset = r.onset;
    if (onset === undefined) return false;
    return state.allDeployments(namespace).some((d: Deployment) => {
      if (d.metadata?.name === self || serviceOf(d, policy) !== r.service) return false;
      const v = stampedDeploy(d, state.replicaSetsIn(namespace), now);
      const start = v.evaluationStart;
      return start !== undefined && start <= onset && onset <= windowEnd(start, v.deploy.rollout.state === 'complete' ? v.deploy.rollout.at : undefined, policy);
    });
  };
}

/** The view again with the previous revision's template read in full: what the deploy changed (R3). */
async function withPreviousTemplate(state: ClusterState, current: Deployment, glance: StampedDeploy, now: number): Promise<{ view: StampedDeploy; problem?: string }> {
  const previous = glance.revision.previous;
  if (typeof previous !== 'number') return { view: glance };
  try {
    return { view: stampedDeploy(current, await state.replicaSetsWithTemplates(current, [previous]), now) };
  } catch (err) {
    return { view: glance, problem: `the ReplicaSet of revision ${String(previous)} could not be read, so what the deploy changed is not known: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export async function evaluateDeployment(deps: EvaluateDeps, current: Deployment, now: number): Promise<Evaluation> {
  const namespace = current.metadata?.namespace ?? '';
  const name = current.metadata?.name ?? '';
  const policy = deps.policyFor(namespace);
  const glance = stampedDeploy(current, deps.state.replicaSetsIn(namespace), now);
  const span = inSpan(glance, policy, now);
  if (!span.in) return { kind: 'skipped', why: span.why, view: glance };
  const { view, problem } = await withPreviousTemplate(deps.state, current, glance, now);
  const start = view.evaluationStart ?? now;
  const doubts = [...view.doubts, ...(problem === undefined ? [] : [problem])];
  const unsynced = deps.state.unsynced();
  if (unsynced.length > 0) doubts.push(`the agent's view of ${unsynced.join(', ')} is not complete (watch not synced)`);

  const service = serviceOf(current, policy);
  let own: Regression = { service, namespace, signal: undefined, data: 'no-data', onset: undefined };
  let neighbours: Regression[] = [];
  let split: RevisionSplit | undefined;
  try {
    const replicaSets = view.owned.map((o) => ({ name: o.replicaSet.metadata?.name ?? '', revision: o.revision }));
    const found = await detectFromSource(deps.sourceFor(policy), { namespace, service, deployStart: start, now, policy, replicaSets });
    // Series without a namespace label: which namespaces deploy this service name (F1).
    own = withDeployedIn(found.regression, () => deps.state.allDeployments(), deps.policyFor);
    neighbours = found.neighbours;
    split = found.split;
    deps.metricsHealth?.ok();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Decided blind: the evidence says so, and since when.
    doubts.push(`the metrics could not be read: ${deps.metricsHealth?.failed(message) ?? message}`);
  }
  const completeAt = view.deploy.rollout.state === 'complete' ? view.deploy.rollout.at : undefined;
  const regression = regressionToJudge(own, neighbours, policy, { start, end: windowEnd(start, completeAt, policy) }, explainedBy(deps.state, namespace, name, policy, now));

  const jobs = await deps.jobRuns.runsFor(namespace, deps.state.jobsIn(namespace), evaluationSpanEnd(start, completeAt, policy) + policy.migrationWindowMs);
  doubts.push(...jobs.problems);
  const config = configEvents(deps.state.config, namespace, view.deploy.before, current, now, start - policy.configWindowMs);
  const input: DecisionInput = {
    now,
    policy,
    deploy: view.deploy,
    current,
    events: [...config, ...jobs.runs],
    coverage: { config: deps.state.config.synced(), jobs: deps.state.jobs.synced() && jobs.complete },
    regression,
    neighbours,
    revision: view.revision,
    blackoutUntil: view.blackoutUntil,
    workloads: workloadsIn(deps.state, namespace, name),
    trafficShare: trafficShareOf(own, neighbours),
    admitted: view.admitted,
    doubts,
    // The split is the deployed service's: it says nothing about a neighbour's regression.
    revisionSplit: regression === own ? split : undefined,
  };
  return { kind: 'decided', decision: decide(input), view, regression, policy, service, input };
}

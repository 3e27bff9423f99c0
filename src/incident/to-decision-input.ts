import type { DecisionInput, RolloutState } from '../core/decision-types.js';
import type { Deployment, Job } from '../core/kube.js';
import { parsePolicy, type Policy } from '../core/policy.js';
import type { Regression } from '../core/regression-types.js';
import type { ChangeEvent } from '../core/change-events.js';
import { incidentSchema, type IncidentFile, type RegressionFile } from './schema.js';
import { describeIssues } from '../core/policy.js';
import { splitByRevision, type RevisionSplit } from '../core/revision-split.js';

// Turns an incident file (already JSON-parsed) into the core's DecisionInput, or precise errors.

export type IncidentResult = { ok: true; input: DecisionInput; expect: IncidentFile['expect']; description: string | undefined } | { ok: false; errors: string[] };

function toRegression(r: RegressionFile, namespace: string): Regression {
  return {
    service: r.service,
    namespace: r.namespace ?? namespace,
    signal: r.signal ?? undefined,
    data: r.data,
    onset: r.onset ?? undefined,
    ...(r.onsetUncertainty !== undefined ? { onsetUncertaintyMs: r.onsetUncertainty } : {}),
    ...(r.errorRate ? { errorRate: r.errorRate } : {}),
    ...(r.latency ? { latency: r.latency } : {}),
  };
}

function toEvents(file: IncidentFile, namespace: string): ChangeEvent[] {
  return file.events.map((e): ChangeEvent => {
    if (e.type === 'config-change') return { ...e, namespace: e.namespace ?? namespace };
    return {
      type: 'job-run',
      name: e.name,
      namespace: e.namespace ?? namespace,
      startedAt: e.startedAt,
      finishedAt: e.finishedAt ?? undefined,
      job: e.job as Job | undefined,
    };
  });
}

function toRollout(complete: IncidentFile['deploy']['complete']): RolloutState {
  return typeof complete === 'number' ? { state: 'complete', at: complete } : { state: complete };
}

/** The split by revision from the file's per-pod counts; undefined without them. */
function toSplit(r: IncidentFile['revisions'], policy: Policy): RevisionSplit | undefined {
  if (r === undefined) return undefined;
  return splitByRevision({
    pods: r.pods.map((p) => ({ pod: p.name, baseline: { k: p.baseline.errors, n: p.baseline.requests }, regression: { k: p.regression.errors, n: p.regression.requests }, appeared: p.appeared })),
    replicaSets: r.replicaSets,
    dispersion: r.dispersion,
    policy,
    since: r.since,
  });
}

export function incidentToInput(raw: unknown, basePolicy?: Policy): IncidentResult {
  const parsed = incidentSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: describeIssues(parsed.error.issues) };
  const file = parsed.data;
  const policy = parsePolicy(file.policy, basePolicy, 'policy');
  if (!policy.ok) return { ok: false, errors: policy.errors };
  const current = file.deployment as Deployment;
  const namespace = current.metadata?.namespace ?? 'default';
  const name = current.metadata?.name ?? '';
  const input: DecisionInput = {
    now: file.now,
    policy: policy.policy,
    deploy: {
      namespace,
      name,
      start: file.deploy.start ?? undefined,
      rollout: toRollout(file.deploy.complete),
      before: (file.before ?? undefined),
      after: (file.after ?? file.deployment),
    },
    current,
    events: toEvents(file, namespace),
    coverage: { config: file.coverage?.config ?? true, jobs: file.coverage?.jobs ?? true },
    regression: file.regression === null ? undefined : toRegression(file.regression, namespace),
    neighbours: file.neighbours.map((n) => toRegression(n, namespace)),
    revision: file.revision === undefined ? { current: undefined, previous: undefined } : { current: file.revision.current ?? undefined, previous: file.revision.previous },
    blackoutUntil: file.blackoutUntil,
    workloads: file.workloads.map((w) => ({ kind: w.kind, namespace, name: w.name, template: w.template })),
    trafficShare: file.trafficShare,
    revisionSplit: toSplit(file.revisions, policy.policy),
  };
  return { ok: true, input, expect: file.expect, description: file.description };
}

import { isRollguardKey } from './annotations.js';
import type { Deployment, PodTemplateSpec, ReplicaSet } from './kube.js';
import { REVISION_ANNOTATION, revisionOf } from './rollout.js';
import { templateHash } from './template-hash.js';

// R7: the rollback `kubectl rollout undo --to-revision=N` performs, as one JSON patch: the pod
// template of revision N's ReplicaSet (without the controller's pod-template-hash label) and the
// annotations kubectl carries over from that ReplicaSet, plus rollguard's record. A `test` of the
// resourceVersion makes the patch fail on any state other than the one the decision was made on.

/** Annotations kubectl keeps from the Deployment instead of copying them from the ReplicaSet. */
const KEPT_FROM_DEPLOYMENT = [
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
];

const POD_TEMPLATE_HASH = 'pod-template-hash';

export interface OwnedReplicaSet {
  revision: number;
  replicaSet: ReplicaSet;
}

/** The ReplicaSets the Deployment controls, by revision, newest first (as the deployment controller links them). */
export function ownedReplicaSets(deployment: Deployment, replicaSets: readonly ReplicaSet[]): OwnedReplicaSet[] {
  const uid = deployment.metadata?.uid;
  const out: OwnedReplicaSet[] = [];
  for (const rs of replicaSets) {
    const owner = rs.metadata?.ownerReferences?.find((o) => o.controller === true && o.kind === 'Deployment');
    if (uid === undefined || owner?.uid !== uid) continue;
    const revision = revisionOf(rs);
    if (revision !== undefined) out.push({ revision, replicaSet: rs });
  }
  return out.sort((a, b) => b.revision - a.revision);
}

/**
 * The revision a rollback restores: the newest revision below the current one. `null` when none is
 * left (a first deploy, or revisionHistoryLimit: 0); `undefined` when the current one is not known.
 */
export function previousRevision(deployment: Deployment, owned: readonly OwnedReplicaSet[]): number | null | undefined {
  const current = revisionOf(deployment);
  if (current === undefined) return undefined;
  return owned.find((o) => o.revision < current)?.revision ?? null;
}

function withoutTemplateHash(template: PodTemplateSpec | undefined): PodTemplateSpec {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels !== undefined) t.metadata.labels = Object.fromEntries(Object.entries(t.metadata.labels).filter(([k]) => k !== POD_TEMPLATE_HASH));
  return t;
}

/** The annotations kubectl writes, with rollguard's own keys as the Deployment has them now. */
export function rolloutUndoAnnotations(deployment: Deployment, target: ReplicaSet): Record<string, string> {
  const current = deployment.metadata?.annotations ?? {};
  const out: Record<string, string> = {};
  for (const key of KEPT_FROM_DEPLOYMENT) {
    const v = current[key];
    if (v !== undefined) out[key] = v;
  }
  for (const [key, value] of Object.entries(target.metadata?.annotations ?? {})) {
    // The ReplicaSet's copies of rollguard's keys are as old as the ReplicaSet; the webhook
    // carries the Deployment's current ones forward, and so does rollguard's own rollback.
    if (!KEPT_FROM_DEPLOYMENT.includes(key) && !isRollguardKey(key)) out[key] = value;
  }
  for (const [key, value] of Object.entries(current)) if (isRollguardKey(key)) out[key] = value;
  return out;
}

export type JsonPatchOp = { op: 'test' | 'replace' | 'add'; path: string; value: unknown };

export type RollbackPlan =
  | { ok: true; ops: JsonPatchOp[]; fromRevision: number | undefined; toRevision: number; partial: boolean; template: PodTemplateSpec }
  | { ok: false; reason: 'paused' | 'revision-not-found' | 'template-unknown' | 'already-there' | 'no-resource-version'; message: string };

export interface RollbackPlanInput {
  deployment: Deployment;
  replicaSets: readonly ReplicaSet[];
  toRevision: number;
  /** rollguard.io/ annotations recording who, why, when, blackout and decision id. */
  record: Readonly<Record<string, string>>;
}

/** True when the rollout had not finished: old and new pods are both running. */
export function rolloutIsPartial(d: Deployment): boolean {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return (s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0) || (s.updatedReplicas ?? 0) < want || (s.replicas ?? 0) > (s.updatedReplicas ?? 0) || (s.availableReplicas ?? 0) < want;
}

export function planRollback(input: RollbackPlanInput): RollbackPlan {
  const { deployment, toRevision } = input;
  const name = `${deployment.metadata?.namespace ?? ''}/${deployment.metadata?.name ?? ''}`;
  if (deployment.spec?.paused === true) {
    return { ok: false, reason: 'paused', message: `deployment ${name} is paused; kubectl refuses to roll back a paused Deployment (resume it first)` };
  }
  const target = ownedReplicaSets(deployment, input.replicaSets).find((o) => o.revision === toRevision)?.replicaSet;
  if (target === undefined) return { ok: false, reason: 'revision-not-found', message: `deployment ${name} has no ReplicaSet for revision ${toRevision}` };
  if (target.spec?.template === undefined) return { ok: false, reason: 'template-unknown', message: `the template of revision ${toRevision} of deployment ${name} was not read; nothing is written without it` };
  const template = withoutTemplateHash(target.spec.template);
  if (templateHash(template) === templateHash(deployment.spec?.template)) {
    return { ok: false, reason: 'already-there', message: `deployment ${name} already runs the template of revision ${toRevision}` };
  }
  const rv = deployment.metadata?.resourceVersion;
  if (rv === undefined) return { ok: false, reason: 'no-resource-version', message: `deployment ${name} has no resourceVersion to make the rollback conditional on` };
  const annotations = { ...rolloutUndoAnnotations(deployment, target), ...input.record };
  return {
    ok: true,
    ops: [
      { op: 'test', path: '/metadata/resourceVersion', value: rv },
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/metadata/annotations', value: annotations },
    ],
    fromRevision: revisionOf(deployment),
    toRevision,
    partial: rolloutIsPartial(deployment),
    template,
  };
}

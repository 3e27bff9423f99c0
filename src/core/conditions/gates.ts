import type { Condition, OwnerInfo } from '../decision-types.js';
import { formatInstant } from '../duration.js';
import type { Deployment } from '../kube.js';
import type { Policy } from '../policy.js';

// The R6, R8, R11 and R13 conditions that do not question causality but whether rollguard may act.

export function judgeOwnership(owner: OwnerInfo, policy: Policy): Condition {
  if (owner.kind === 'none') return { status: 'met', evidence: 'not managed by Argo CD, Flux or Helm' };
  if (owner.kind === 'helm') {
    return { status: 'met', evidence: `Helm release ${owner.name ?? ''} does not reconcile by itself; the next helm upgrade brings the change back, helm rollback is the durable route` };
  }
  const who = owner.kind === 'argocd' ? `Argo CD application ${owner.name ?? ''}` : `Flux ${owner.name ?? ''}`;
  if (policy.gitops === 'auto') {
    return { status: 'met', evidence: `reconciled by ${who}; the policy allows automated rollback of GitOps-owned Deployments` };
  }
  return { status: 'unmet', evidence: `reconciled by ${who}, which would put a plain rollback back within seconds: roll back through the owner` };
}

export function judgeRevision(revision: { current: number | undefined; previous: number | null | undefined }): Condition {
  if (revision.previous === undefined) return { status: 'unknown', evidence: "the Deployment's revision history is not known" };
  if (revision.previous === null) return { status: 'unmet', evidence: 'no previous revision is left to roll back to (revision history empty or pruned)' };
  const current = revision.current === undefined ? '' : ` (current ${revision.current})`;
  return { status: 'met', evidence: `revision ${revision.previous} can be restored${current}` };
}

export function judgePaused(current: Deployment): Condition {
  return current.spec?.paused === true
    ? { status: 'unmet', evidence: 'the Deployment is paused: someone is handling its rollout by hand' }
    : { status: 'met', evidence: 'the Deployment is not paused' };
}

export function judgeBlackout(blackoutUntil: number | undefined, now: number): Condition {
  if (blackoutUntil !== undefined && blackoutUntil > now) {
    return { status: 'unmet', evidence: `in the post-rollback blackout until ${formatInstant(blackoutUntil)}: no re-evaluation while the rollback rolls out` };
  }
  return { status: 'met', evidence: blackoutUntil === undefined ? 'no recent rollback' : `the last blackout ended at ${formatInstant(blackoutUntil)}` };
}

export function judgeMode(policy: Policy): Condition {
  if (policy.mode === 'auto') return { status: 'met', evidence: 'policy mode is auto' };
  return { status: 'unmet', evidence: `policy mode is ${policy.mode}: ${policy.mode === 'off' ? 'rollguard does not act' : 'a human decides every rollback'}` };
}

import { ANNOTATIONS } from '../core/annotations.js';
import { judgeBlackout } from '../core/blackout.js';
import type { Deployment } from '../core/kube.js';
import { parseTemplateHistory, templateHash } from '../core/template-hash.js';
import { readAnnotations } from './patch.js';
import type { Verdict } from './response.js';
import type { AdmissionRequest } from './review.js';
import { skipReason } from './skipped-namespaces.js';
import { admissionTarget } from './target.js';
import type { PolicyObjectsView } from '../policy/policy-objects-view.js';
import { policyKindOf, validatePolicyObject } from './validate-policy.js';

// The validating webhook: the blackout guard (R8), and the policy CRDs checked like the policy
// file (R11). Every other request is allowed.

export interface ValidateResult {
  verdict: Verdict;
  summary: string;
}

export interface ValidateDeps {
  /** rollguard's own namespace: never guarded, like kube-system (F2). */
  ownNamespace: string;
  /** The policy objects in the cluster, when the webhook watches them (--policy-source crd). */
  policies?: PolicyObjectsView | undefined;
}

export function validate(req: AdmissionRequest, deps: ValidateDeps, now: number): ValidateResult {
  const skipped = skipReason(req.namespace, deps.ownNamespace);
  if (skipped !== undefined) return { verdict: { type: 'allow' }, summary: skipped };
  const policyKind = policyKindOf(req);
  if (policyKind !== undefined) return validatePolicyObject(req, policyKind, deps.policies);
  const target = admissionTarget(req);
  if (req.operation !== 'UPDATE' || target.type !== 'object' || target.kind !== 'Deployment') return { verdict: { type: 'allow' }, summary: 'not a Deployment update' };
  const object = req.object as Deployment | null | undefined;
  const old = req.oldObject as Deployment | null | undefined;
  if (object == null || old == null) return { verdict: { type: 'allow' }, summary: 'no object to compare' };
  const oldAnnotations = Object.fromEntries(readAnnotations(req.oldObject));
  const decision = judgeBlackout({
    namespace: req.namespace ?? old.metadata?.namespace ?? '',
    name: req.name ?? old.metadata?.name ?? '',
    oldAnnotations,
    newAnnotations: Object.fromEntries(readAnnotations(req.object)),
    oldTemplateHash: templateHash(old.spec?.template),
    newTemplateHash: templateHash(object.spec?.template),
    history: parseTemplateHistory(oldAnnotations[ANNOTATIONS.templateHistory.key]),
    now,
    requester: req.userInfo?.username,
  });
  if (decision.allowed) {
    // An override is worth telling the person who used it (and the audit log, which keeps warnings).
    return { verdict: { type: 'allow', ...(decision.overridden ? { warnings: [`rollguard: ${decision.reason}`] } : {}) }, summary: decision.reason };
  }
  return { verdict: { type: 'deny', code: 403, message: decision.message }, summary: 'rollback denied: blackout in force' };
}

import { DEFAULT_POLICY, parsePolicy } from '../core/policy.js';
import { objectKey, refText, toPolicyObject, type PolicyKind, type PolicyObject } from '../core/policy-objects.js';
import { resolvePolicyObjects } from '../core/policy-resolution.js';
import { POLICY_GROUP, POLICY_RESOURCES } from '../policy/policy-crds.js';
import type { PolicyObjectsView } from '../policy/policy-objects-view.js';
import type { AdmissionRequest } from './review.js';
import type { ValidateResult } from './validate.js';

// The validating webhook for the policy CRDs (R11, F5): the spec is checked by parsePolicy, the
// code that checks the policy file, a namespace policy on top of the cluster default in effect,
// and refused with one "spec.field: message" per problem. A valid policy that will not take
// effect (a second one in its namespace, a ClusterRollbackPolicy not named default) is admitted
// with a warning that says so.

const MAX_WARNINGS = 5;

export function policyKindOf(req: AdmissionRequest): PolicyKind | undefined {
  if (req.resource.group !== POLICY_GROUP || (req.subResource !== undefined && req.subResource !== '')) return undefined;
  return POLICY_RESOURCES.find((r) => r.plural === req.resource.resource)?.kind;
}

function withName(req: AdmissionRequest, o: PolicyObject): PolicyObject {
  return { ...o, name: o.name === '' ? (req.name ?? '') : o.name, namespace: o.kind === 'RollbackPolicy' ? (o.namespace ?? req.namespace) : undefined };
}

export function validatePolicyObject(req: AdmissionRequest, kind: PolicyKind, view: PolicyObjectsView | undefined): ValidateResult {
  if ((req.operation !== 'CREATE' && req.operation !== 'UPDATE') || req.object == null) return { verdict: { type: 'allow' }, summary: `${kind} ${req.operation}: nothing to check` };
  const incoming = withName(req, toPolicyObject(kind, req.object));
  const { cluster, namespaced } = view?.objects() ?? { cluster: [], namespaced: [] };
  const before = resolvePolicyObjects(cluster, namespaced);
  const parsed = parsePolicy(incoming.spec, kind === 'ClusterRollbackPolicy' ? DEFAULT_POLICY : before.cluster.policy, 'spec');
  if (!parsed.ok) {
    return { verdict: { type: 'deny', code: 422, message: `${refText(incoming)} is invalid: ${parsed.errors.join('; ')}` }, summary: `invalid ${kind}` };
  }
  const key = objectKey(incoming);
  const replaced = (list: readonly PolicyObject[]): PolicyObject[] => [...list.filter((o) => objectKey(o) !== key), incoming];
  const after = kind === 'ClusterRollbackPolicy' ? resolvePolicyObjects(replaced(cluster), namespaced) : resolvePolicyObjects(cluster, replaced(namespaced));
  const warnings: string[] = [];
  const own = after.statuses.get(key)?.status;
  if (own !== undefined && !own.accepted) warnings.push(`rollguard: ${refText(incoming)} will not take effect: ${own.message}`);
  for (const [k, { object, status }] of after.statuses) {
    if (k === key || status.reason !== 'Invalid' || before.statuses.get(k)?.status.reason === 'Invalid') continue;
    warnings.push(`rollguard: ${refText(object)} becomes invalid over this cluster default: ${status.message}`);
  }
  return { verdict: { type: 'allow', ...(warnings.length > 0 ? { warnings: warnings.slice(0, MAX_WARNINGS) } : {}) }, summary: `valid ${kind}` };
}

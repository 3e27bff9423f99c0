import { loadPolicySet, parsePolicySet, readPolicyDocument, resolver } from '../policy/policy-file.js';
import { policyPaths } from '../policy/policy-crds.js';
import { DEFAULT_POLICY, type Policy } from '../core/policy.js';
import { toPolicyObject } from '../core/policy-objects.js';
import { explainResolution, fieldOrigins, type PolicyExplanation, type PolicyLayer } from '../core/policy-provenance.js';
import { effectiveFor, resolvePolicyObjects, type Resolution } from '../core/policy-resolution.js';
import { isStatus, KubeRest } from '../kube/rest.js';
import { conventionFor } from '../metrics/conventions.js';
import { InputError } from './read-json.js';
import type { KubeAccess } from '../kube/connection.js';

// `rollguard inspect deployment/NAME`: which policy governs the Deployment's namespace and where
// each value comes from, read from the policy CRDs in the cluster or from `--policy FILE`.

export async function explainFromFile(path: string, namespace: string): Promise<PolicyExplanation> {
  let doc: unknown;
  try {
    doc = await readPolicyDocument(path);
  } catch (err) {
    throw new InputError(path, [err instanceof Error ? err.message : String(err)]);
  }
  const parsed = parsePolicySet(doc);
  if (!parsed.ok) throw new InputError(path, parsed.errors);
  const d = (doc ?? {}) as { default?: unknown; namespaces?: Record<string, unknown> };
  const own = d.namespaces?.[namespace];
  const layers: PolicyLayer[] = [];
  if (own !== undefined) layers.push({ label: `namespace policy (policy file ${path}, namespaces.${namespace})`, input: own });
  if (d.default !== undefined) layers.push({ label: `cluster default (policy file ${path}, default)`, input: d.default });
  const governedBy = own !== undefined ? `policy file ${path}: namespaces.${namespace} over default` : `policy file ${path}: default`;
  return { governedBy, fields: fieldOrigins(resolver(parsed.set)(namespace), layers, conventionFor), notes: [] };
}

async function clusterResolution(rest: KubeRest, namespace: string): Promise<Resolution> {
  const [cluster, own] = await Promise.all([
    rest.get<{ items?: unknown[] }>(policyPaths.collection('ClusterRollbackPolicy')),
    rest.get<{ items?: unknown[] }>(policyPaths.namespaced(namespace)),
  ]);
  return resolvePolicyObjects(
    (cluster.items ?? []).map((o) => toPolicyObject('ClusterRollbackPolicy', o)),
    (own.items ?? []).map((o) => toPolicyObject('RollbackPolicy', o)),
  );
}

/** The policy that applies in a namespace: from `file`, else the cluster's policy CRDs, else the built-in default. */
export async function policyInEffect(kc: KubeAccess, namespace: string, file: string | undefined): Promise<{ policy: Policy; from: string }> {
  if (file !== undefined) return { policy: resolver(await loadPolicySet(file))(namespace), from: `policy file ${file}` };
  const rest = new KubeRest(kc);
  try {
    await rest.get(policyPaths.discovery);
  } catch (err) {
    if (isStatus(err, 404)) return { policy: DEFAULT_POLICY, from: 'the built-in defaults (no policy CRDs in the cluster; pass --policy FILE if the agent runs with one)' };
    throw err;
  }
  return { policy: effectiveFor(await clusterResolution(rest, namespace), namespace).policy, from: 'the policy CRDs' };
}

const AS_APPLIED = 'as the agent and the webhook apply them with --policy-source crd; if they run with --policy FILE, pass the same --policy to inspect';

export async function explainFromCluster(kc: KubeAccess, namespace: string): Promise<PolicyExplanation> {
  const rest = new KubeRest(kc);
  try {
    await rest.get(policyPaths.discovery);
  } catch (err) {
    if (!isStatus(err, 404)) return { governedBy: 'unknown', fields: [], notes: [`cannot read the policy CRDs: ${err instanceof Error ? err.message : String(err)}`] };
    return { governedBy: 'built-in defaults', fields: fieldOrigins(DEFAULT_POLICY, [], conventionFor), notes: ['this cluster has no policy CRDs; if the agent runs with --policy FILE, pass the same --policy to inspect'] };
  }
  try {
    const explained = explainResolution(await clusterResolution(rest, namespace), namespace, conventionFor);
    return { ...explained, notes: [...explained.notes, AS_APPLIED] };
  } catch (err) {
    return { governedBy: 'unknown', fields: [], notes: [`cannot read the policy CRDs: ${err instanceof Error ? err.message : String(err)}`] };
  }
}

import { DEFAULT_POLICY, parsePolicy, type Policy } from './policy.js';
import { CLUSTER_DEFAULT_NAME, objectKey, refText, type AcceptedReason, type PolicyObject, type PolicyRef } from './policy-objects.js';

// Which policy objects take effect and what each of them gets in its status (R11):
//
// - The cluster default is the ClusterRollbackPolicy named `default`; any other name is NotDefault.
// - In a namespace, the oldest RollbackPolicy takes effect (creation time, then name); the others are
//   Conflicting and name it. Creating a second one never changes what applies.
// - The one in effect applies its spec when valid, else the last valid spec its status recorded
//   (F1: a broken edit never makes rollguard more permissive); with no valid version known, its
//   level falls back to what is below it with mode at most `suggest`, never to plain defaults.
//   A cluster default in that state caps every namespace too.

export interface Effective {
  policy: Policy;
  /** The object whose spec applies; undefined: none (built-in defaults, or the cluster default for a namespace). */
  governedBy: PolicyRef | undefined;
  /** The policy document that applies from it (its spec, or the last valid one); undefined without one. */
  input: unknown;
  generation: number | undefined;
  /** True when the current spec is invalid and an earlier valid one applies. */
  lastValid: boolean;
  /** F1: why the mode is capped at suggest, if it is. */
  doubt: string | undefined;
}

export interface DesiredStatus {
  observedGeneration: number;
  accepted: boolean;
  reason: AcceptedReason;
  message: string;
  /** What the status records as applied; undefined clears it. */
  applied: { generation: number; spec: unknown } | undefined;
}

export interface Resolution {
  cluster: Effective;
  /** Namespaces that have a RollbackPolicy in effect. */
  namespaces: ReadonlyMap<string, Effective>;
  /** Keyed by objectKey. */
  statuses: ReadonlyMap<string, { object: PolicyObject; status: DesiredStatus }>;
}

export function capMode(policy: Policy): Policy {
  return policy.mode === 'auto' ? { ...policy, mode: 'suggest' } : policy;
}

/** The oldest first: creation time, then name; an object not yet created counts as the newest. */
export function byAge(a: PolicyObject, b: PolicyObject): number {
  const ta = a.createdAt ?? Number.POSITIVE_INFINITY;
  const tb = b.createdAt ?? Number.POSITIVE_INFINITY;
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function ref(o: PolicyObject): PolicyRef {
  return { kind: o.kind, namespace: o.namespace, name: o.name };
}

interface Judged {
  effective: Effective;
  status: DesiredStatus;
}

/** The one object in effect at one level, over `base` (what applies without it). */
function judge(o: PolicyObject, base: Policy, scope: string, fallback: string): Judged {
  const parsed = parsePolicy(o.spec, base, 'spec');
  if (parsed.ok) {
    return {
      effective: { policy: parsed.policy, governedBy: ref(o), input: o.spec, generation: o.generation, lastValid: false, doubt: undefined },
      status: { observedGeneration: o.generation, accepted: true, reason: 'Valid', message: `in effect: ${scope} (generation ${o.generation})`, applied: { generation: o.generation, spec: o.spec } },
    };
  }
  const invalid = `generation ${o.generation} is invalid: ${parsed.errors.join('; ')}`;
  const applied = o.status?.appliedGeneration !== undefined && o.status.appliedSpec !== undefined ? { generation: o.status.appliedGeneration, spec: o.status.appliedSpec } : undefined;
  const previous = applied === undefined ? undefined : parsePolicy(applied.spec, base, 'spec');
  if (applied !== undefined && previous?.ok === true) {
    return {
      effective: { policy: previous.policy, governedBy: ref(o), input: applied.spec, generation: applied.generation, lastValid: true, doubt: undefined },
      status: { observedGeneration: o.generation, accepted: false, reason: 'Invalid', message: `${invalid}; generation ${applied.generation}, the last valid one, keeps applying (F1)`, applied },
    };
  }
  const doubt = `${refText(o)} is invalid and no valid version of it is known`;
  return {
    effective: { policy: capMode(base), governedBy: ref(o), input: undefined, generation: undefined, lastValid: false, doubt },
    status: { observedGeneration: o.generation, accepted: false, reason: 'Invalid', message: `${invalid}; no valid version is known, so ${fallback} applies with mode at most suggest (F1)`, applied: undefined },
  };
}

function notInEffect(o: PolicyObject, reason: AcceptedReason, message: string): DesiredStatus {
  return { observedGeneration: o.generation, accepted: false, reason, message, applied: undefined };
}

export function resolvePolicyObjects(clusterObjects: readonly PolicyObject[], namespaced: readonly PolicyObject[]): Resolution {
  const statuses = new Map<string, { object: PolicyObject; status: DesiredStatus }>();
  const put = (object: PolicyObject, status: DesiredStatus): void => {
    statuses.set(objectKey(object), { object, status });
  };

  let cluster: Effective = { policy: DEFAULT_POLICY, governedBy: undefined, input: undefined, generation: undefined, lastValid: false, doubt: undefined };
  for (const o of clusterObjects) {
    if (o.name !== CLUSTER_DEFAULT_NAME) {
      put(o, notInEffect(o, 'NotDefault', `only the ClusterRollbackPolicy named "${CLUSTER_DEFAULT_NAME}" takes effect; this one is ignored`));
      continue;
    }
    const j = judge(o, DEFAULT_POLICY, 'the cluster default', 'the built-in default');
    cluster = j.effective;
    put(o, j.status);
  }

  const byNamespace = new Map<string, PolicyObject[]>();
  for (const o of namespaced) {
    const ns = o.namespace ?? '';
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), o]);
  }
  const namespaces = new Map<string, Effective>();
  for (const [ns, objects] of byNamespace) {
    const [first, ...rest] = [...objects].sort(byAge);
    if (first === undefined) continue;
    const j = judge(first, cluster.policy, `the policy of namespace ${ns}`, 'the cluster default');
    const doubt = j.effective.doubt ?? (cluster.doubt === undefined ? undefined : `the cluster default is in doubt: ${cluster.doubt}`);
    namespaces.set(ns, { ...j.effective, policy: doubt === undefined ? j.effective.policy : capMode(j.effective.policy), doubt });
    put(first, j.status);
    for (const o of rest) {
      put(o, notInEffect(o, 'Conflicting', `namespace ${ns} has an older RollbackPolicy, ${first.name}, which takes effect; only one RollbackPolicy per namespace applies (the oldest)`));
    }
  }
  return { cluster, namespaces, statuses };
}

/** What applies in a namespace: its RollbackPolicy in effect, else the cluster default. */
export function effectiveFor(resolution: Resolution, namespace: string): Effective {
  return resolution.namespaces.get(namespace) ?? resolution.cluster;
}

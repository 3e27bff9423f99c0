import type { BlastRadius, Deploy } from './decision-types.js';
import type { Deployment, WorkloadRef } from './kube.js';
import type { Regression } from './regression-types.js';
import { refKey, templateRefs } from './template-refs.js';

// What a rollback touches and what it leaves: the pods it replaces, the traffic they serve, and the
// other workloads that read the same ConfigMaps/Secrets (which a rollback does not revert).

export function blastRadiusOf(
  deploy: Deploy,
  current: Deployment,
  workloads: readonly WorkloadRef[],
  trafficShare: number | undefined,
): BlastRadius {
  const own = templateRefs(current.spec?.template ?? deploy.after?.spec?.template).all;
  const ownKeys = new Map(own.map((r) => [refKey(r), r]));
  const sharedConfig: BlastRadius['sharedConfig'] = [];
  for (const w of workloads) {
    if (w.kind === 'Deployment' && w.name === deploy.name && w.namespace === deploy.namespace) continue;
    const via = templateRefs(w.template).all.filter((r) => ownKeys.has(refKey(r))).map((r) => `${r.kind} ${r.name}`);
    if (via.length > 0) sharedConfig.push({ kind: w.kind, name: w.name, via });
  }
  const replicas = current.spec?.replicas ?? current.status?.replicas;
  const updated = current.status?.updatedReplicas;
  const partial = deploy.rollout.state !== 'complete' || (replicas !== undefined && updated !== undefined && updated < replicas);
  return { replicas, updatedReplicas: updated, partial, trafficShare, sharedConfig };
}

/**
 * R10: the deployed service's share of the requests since the deploy, among the services of the
 * namespace that were checked (itself and its neighbours). Undefined when no request was counted.
 */
export function trafficShareOf(own: Regression, neighbours: readonly Regression[]): number | undefined {
  const mine = own.errorRate?.currentRequests;
  if (mine === undefined) return undefined;
  const total = neighbours.filter((n) => n.service !== own.service).reduce((sum, n) => sum + (n.errorRate?.currentRequests ?? 0), mine);
  return total > 0 ? mine / total : undefined;
}

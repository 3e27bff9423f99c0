import type { Deployment } from './kube.js';

// Facts about a Deployment's rollout as its objects show them: the revision the deployment
// controller stamped, whether the rollout is complete, and the patch `kubectl rollout undo` sends.

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

export function revisionOf(obj: Deployment | undefined): number | undefined {
  const raw = obj?.metadata?.annotations?.[REVISION_ANNOTATION];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}

/** What `kubectl rollout status` waits for: every replica updated and available, no old ones left. */
export function rolloutComplete(obj: Deployment, minGeneration: number | undefined): boolean {
  const s = obj.status;
  const generation = obj.metadata?.generation;
  if (s?.observedGeneration === undefined || generation === undefined) return false;
  if (s.observedGeneration < generation || (minGeneration !== undefined && s.observedGeneration < minGeneration)) return false;
  const want = obj.spec?.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  return updated >= want && (s.replicas ?? 0) <= updated && (s.availableReplicas ?? 0) >= updated;
}

/** `kubectl rollout undo` sends a JSON patch replacing /spec/template and /metadata/annotations. */
export function isRolloutUndoPatch(patch: unknown): boolean {
  if (!Array.isArray(patch)) return false;
  const replaced = new Set<unknown>();
  for (const op of patch as unknown[]) {
    if (typeof op === 'object' && op !== null && 'op' in op && op.op === 'replace' && 'path' in op) replaced.add(op.path);
  }
  return replaced.has('/spec/template') && replaced.has('/metadata/annotations');
}

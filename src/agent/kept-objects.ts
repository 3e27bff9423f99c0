import type { Deployment, ObjectMeta, ReplicaSet } from '../core/kube.js';

// What the agent's informers keep of each object: what a decision reads, not the object as
// listed. A Deployment loses managedFields and kubectl's last-applied copy of the manifest (often
// the largest part of an object kept with `kubectl apply`, and read only to carry it over on a
// rollback: that reads the Deployment again, see ClusterState.deploymentForRollback). A ReplicaSet
// keeps its identity, creation, annotations (revision, the ones a rollback copies) and its
// controller; its labels and the rest of its metadata go.

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Deployments whose cached copy left out kubectl's last-applied annotation. */
const lastAppliedDropped = new WeakSet<object>();

/** Whether the cached Deployment had a last-applied annotation that the cache does not hold. */
export function lacksLastApplied(d: Deployment): boolean {
  return lastAppliedDropped.has(d);
}

/** `record` without `key`, as own data properties (a "__proto__" key stays data). */
function without<V>(record: Record<string, V>, drop: (key: string) => boolean): Record<string, V> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => !drop(k)));
}

export function keptDeployment<T extends Deployment>(d: T): T {
  const meta = d.metadata;
  if (meta === undefined) return d;
  const annotations = meta.annotations;
  const hadLastApplied = annotations !== undefined && Object.hasOwn(annotations, LAST_APPLIED);
  if (meta.managedFields === undefined && !hadLastApplied) return d;
  const metadata = without(meta as Record<string, unknown>, (k) => k === 'managedFields');
  if (hadLastApplied) metadata.annotations = without(annotations, (k) => k === LAST_APPLIED);
  const kept = Object.assign({}, d, { metadata });
  if (hadLastApplied) lastAppliedDropped.add(kept);
  return kept;
}

type OwnerReference = NonNullable<ObjectMeta['ownerReferences']>[number];

function controllerRef(o: OwnerReference): OwnerReference {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.name, uid: o.uid, controller: true };
}

/** A ReplicaSet (metadata) as the agent reads it: which Deployment controls it, its revision, when it was made. */
export function keptReplicaSet<T extends ReplicaSet>(rs: T): T {
  const m = rs.metadata;
  if (m === undefined) return rs;
  const metadata: ObjectMeta = {};
  if (m.name !== undefined) metadata.name = m.name;
  if (m.namespace !== undefined) metadata.namespace = m.namespace;
  if (m.uid !== undefined) metadata.uid = m.uid;
  if (m.resourceVersion !== undefined) metadata.resourceVersion = m.resourceVersion;
  if (m.generation !== undefined) metadata.generation = m.generation;
  if (m.creationTimestamp !== undefined) metadata.creationTimestamp = m.creationTimestamp;
  if (m.deletionTimestamp !== undefined) metadata.deletionTimestamp = m.deletionTimestamp;
  if (m.annotations !== undefined) metadata.annotations = m.annotations;
  const owners = m.ownerReferences?.filter((o) => o.controller === true).map(controllerRef);
  if (owners !== undefined && owners.length > 0) metadata.ownerReferences = owners;
  return { ...rs, metadata };
}

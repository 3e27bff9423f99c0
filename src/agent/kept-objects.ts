import { ANNOTATIONS } from '../core/annotations.js';
import type { Deployment, DeploymentStatus, Job, KubeObject, ObjectMeta, ReplicaSet } from '../core/kube.js';
import { shareSubtrees } from './shared-subtrees.js';

// What the agent's informers keep of each object: what a decision reads, not the object as
// listed. A Deployment loses managedFields, kubectl's last-applied copy of the manifest (often
// the largest part of an object kept with `kubectl apply`, and read only to carry it over on a
// rollback: that reads the Deployment again, see ClusterState.deploymentForRollback) and of its
// status conditions the message and transition time. A ReplicaSet keeps its identity, creation,
// annotations (revision, the ones a rollback copies) and its controller; its labels, the rest of
// its metadata and rollguard's stamps go (the controller copied those from the Deployment when the
// ReplicaSet was new; nothing reads them there, and an old revision's are its own strings). A Job
// (watched as metadata) loses managedFields and the last-applied copy, which is its whole manifest
// when it is kept with `kubectl apply`. Each shares the parts equal to the version it replaces, or
// to a neighbour's (shared-subtrees.ts): a stamp written on a Deployment, or ten Deployments of one
// chart, hold their templates, defaults and strings once.

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

type Condition = NonNullable<DeploymentStatus['conditions']>[number];

/** A condition as a decision reads it (the Progressing one's reason and update time). */
function keptCondition(c: Condition): Condition {
  const kept: Condition = { type: c.type, status: c.status };
  if (c.reason !== undefined) kept.reason = c.reason;
  if (c.lastUpdateTime !== undefined) kept.lastUpdateTime = c.lastUpdateTime;
  return kept;
}

/** The pod template's labels are mostly the Deployment's own, and the selector's are the template's: held once. */
function shareLabels(d: Deployment): void {
  const spec = d.spec;
  const template = spec?.template?.metadata;
  if (template?.labels !== undefined && d.metadata?.labels !== undefined) template.labels = shareSubtrees(template.labels, d.metadata.labels);
  const selector = spec?.selector;
  if (selector?.matchLabels !== undefined && template?.labels !== undefined) selector.matchLabels = shareSubtrees(selector.matchLabels, template.labels);
}

/** The metadata without managedFields and kubectl's last-applied copy, and whether it had that copy. */
function leanMetadata(meta: ObjectMeta): { metadata: ObjectMeta; hadLastApplied: boolean } {
  const annotations = meta.annotations;
  const hadLastApplied = annotations !== undefined && Object.hasOwn(annotations, LAST_APPLIED);
  const metadata: ObjectMeta = without(meta as Record<string, unknown>, (k) => k === 'managedFields');
  if (hadLastApplied) metadata.annotations = without(annotations, (k) => k === LAST_APPLIED);
  return { metadata, hadLastApplied };
}

/**
 * The Deployment as kept, sharing the parts equal to `like` (the version it replaces, or a
 * neighbour). `d` is fresh from the wire: its parts may be replaced in place.
 */
export function keptDeployment<T extends Deployment>(d: T, like?: Deployment): T {
  const meta = d.metadata;
  if (meta === undefined) return d;
  const { metadata, hadLastApplied } = leanMetadata(meta);
  const conditions = d.status?.conditions;
  const status = conditions === undefined ? d.status : { ...d.status, conditions: conditions.map(keptCondition) };
  const kept: T = Object.assign({}, d, { metadata }, status === undefined ? {} : { status });
  shareLabels(kept);
  const shared = like === undefined ? kept : shareSubtrees(kept, like);
  // `like` whole is only taken when it is the same version; it must say the same of last-applied.
  const out = shared === like && lacksLastApplied(like) !== hadLastApplied ? kept : shared;
  if (hadLastApplied) lastAppliedDropped.add(out);
  return out;
}

type OwnerReference = NonNullable<ObjectMeta['ownerReferences']>[number];

function controllerRef(o: OwnerReference): OwnerReference {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.name, uid: o.uid, controller: true };
}

/**
 * The keys rollguard alone writes. On a ReplicaSet they are as old as the ReplicaSet: a rollback
 * carries the Deployment's own forward (rollback-plan.ts), and the handoff reads only the keys
 * people set (commit, pull-request).
 */
const STAMP_KEYS = new Set(Object.values(ANNOTATIONS).flatMap((a) => (a.writer === 'rollguard' ? [a.key] : [])));

/** A ReplicaSet (metadata) as the agent reads it: which Deployment controls it, its revision, when it was made; sharing the parts equal to `like`. */
export function keptReplicaSet<T extends ReplicaSet>(rs: T, like?: ReplicaSet): T {
  const m = rs.metadata;
  if (m === undefined) return rs;
  const stamped = m.annotations !== undefined && Object.keys(m.annotations).some((k) => STAMP_KEYS.has(k));
  const annotations = stamped ? without(m.annotations ?? {}, (k) => STAMP_KEYS.has(k)) : m.annotations;
  const owners = m.ownerReferences?.filter((o) => o.controller === true).map(controllerRef);
  // One literal, every field present (undefined when absent): V8 lays it out in the object itself,
  // where adding fields one by one spills them into a second array (~60 B more per ReplicaSet).
  const metadata: ObjectMeta = {
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
    generation: m.generation,
    creationTimestamp: m.creationTimestamp,
    deletionTimestamp: m.deletionTimestamp,
    annotations,
    ownerReferences: owners !== undefined && owners.length > 0 ? owners : undefined,
  };
  const kept = { ...rs, metadata };
  return like === undefined ? kept : shareSubtrees(kept, like);
}

/**
 * A Job's metadata as the agent reads it: identity, creation, labels and annotations (a
 * migration's marks and the webhook's stamps, migrations.ts) and its owner; not managedFields nor
 * kubectl's last-applied copy. Sharing the parts equal to `like`.
 */
export function keptJob<T extends Job>(job: T, like?: Job): T {
  const meta = job.metadata;
  if (meta === undefined) return job;
  const kept = { ...job, metadata: leanMetadata(meta).metadata };
  return like === undefined ? kept : shareSubtrees(kept, like);
}

/**
 * Takes the owner Deployment's copy of every annotation value the ReplicaSet holds equal: the
 * controller copies the Deployment's annotations (rollguard's stamps among them, a few hundred
 * bytes to kilobytes) onto the ReplicaSet of each revision, so the current one holds them twice.
 * Strings compare by content: only which copy is held changes, never a value.
 */
export function shareOwnerAnnotations<T extends ReplicaSet>(rs: T, owner: Deployment | undefined): T {
  const mine = rs.metadata?.annotations;
  const theirs = owner?.metadata?.annotations;
  if (mine === undefined || theirs === undefined) return rs;
  for (const key of Object.keys(mine)) {
    const value = Object.hasOwn(theirs, key) ? theirs[key] : undefined;
    if (value !== undefined && value === mine[key]) mine[key] = value;
  }
  return rs;
}

/** The Deployment that controls the ReplicaSet, by its controller reference. */
export function ownerName(rs: ReplicaSet): string | undefined {
  return rs.metadata?.ownerReferences?.find((o) => o.controller === true && o.kind === 'Deployment')?.name;
}

/**
 * An informer's trim from `keep`: an object is kept like the version it replaces or, when it is
 * new, like the last object kept in its namespace (one per namespace is remembered).
 */
export function likeNeighbours<T extends KubeObject>(keep: (obj: T, like: T | undefined) => T): (obj: T, previous: T | undefined) => T {
  const last = new Map<string, T>();
  return (obj, previous) => {
    const namespace = obj.metadata?.namespace ?? '';
    const kept = keep(obj, previous ?? last.get(namespace));
    last.set(namespace, kept);
    return kept;
  };
}

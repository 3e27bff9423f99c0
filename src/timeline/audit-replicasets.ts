import type { ReplicaSetRevision } from '../core/revision-split.js';
import { resultObject } from './audit-bodies.js';
import type { TimedAuditEvent } from './audit-event.js';

// The ReplicaSets an audit log shows, for the split of the 5xx share by revision (R1, R2): which
// Deployment owns each and the revision the deployment controller gave it, from the bodies of its
// writes (Request level or above). Only the revision's changes are kept, with when they were seen,
// so a decision made at t reads the revisions as of t. A log that holds no ReplicaSet bodies leaves
// this empty, and pods are placed by when their series first appeared (F1).

const REVISION = 'deployment.kubernetes.io/revision';
const WRITES = new Set(['create', 'update', 'patch']);

/** A ReplicaSet's revision from `at` on. */
export interface ReplicaSetSeen {
  namespace: string;
  name: string;
  /** The Deployment that controls it. */
  owner: string;
  revision: number;
  at: number;
}

interface OwnedRevision {
  owner: string;
  revision: number;
}

function ownedRevision(item: TimedAuditEvent): OwnedRevision | undefined {
  const e = item.event;
  if (e.objectRef?.resource !== 'replicasets' || e.objectRef.apiGroup !== 'apps' || !WRITES.has(e.verb)) return undefined;
  const metadata = resultObject(e)?.metadata;
  const owner = metadata?.ownerReferences?.find((r) => r.kind === 'Deployment' && r.controller === true)?.name;
  const revision = Number(metadata?.annotations?.[REVISION]);
  return owner !== undefined && Number.isInteger(revision) && revision > 0 ? { owner, revision } : undefined;
}

export class ReplicaSetRevisions {
  /** The earliest write seen of each ReplicaSet at each revision. */
  private readonly seen = new Map<string, ReplicaSetSeen>();

  /** Takes a ReplicaSet write (records arrive in any order); false for a record about anything else. */
  take(item: TimedAuditEvent): boolean {
    const ref = item.event.objectRef;
    if (ref?.resource !== 'replicasets') return false;
    const found = ownedRevision(item);
    if (found === undefined || ref.namespace === undefined || ref.name === undefined) return true;
    const key = `${ref.namespace}/${ref.name}@${String(found.revision)}`;
    const known = this.seen.get(key);
    if (known === undefined || item.at < known.at) this.seen.set(key, { namespace: ref.namespace, name: ref.name, ...found, at: item.at });
    return true;
  }

  result(): ReplicaSetSeen[] {
    return [...this.seen.values()].sort((a, b) => a.at - b.at);
  }
}

/** A Deployment's ReplicaSets with the revision each held at time t (as the agent knows them then). */
export function replicaSetsAt(seen: readonly ReplicaSetSeen[], namespace: string, deployment: string, t: number): ReplicaSetRevision[] {
  const latest = new Map<string, ReplicaSetSeen>();
  for (const s of seen) {
    if (s.namespace !== namespace || s.owner !== deployment || s.at > t) continue;
    const known = latest.get(s.name);
    if (known === undefined || s.at >= known.at) latest.set(s.name, s);
  }
  return [...latest.values()].map((s) => ({ name: s.name, revision: s.revision }));
}

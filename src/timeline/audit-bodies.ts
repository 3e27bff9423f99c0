import type { KubeObject } from '../core/kube.js';
import type { AuditEvent } from './audit-event.js';

// What an audit record says about the object it wrote. The level decides what is there:
// Metadata has no bodies; Request has the request body (the whole object for create/update, only
// the patch for patch); RequestResponse also has the response (the object as stored, which for a
// patch is the only place the result appears).

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function storedObject(e: AuditEvent): (KubeObject & Record<string, unknown>) | undefined {
  const response = e.responseObject;
  return isRecord(response) && response.kind !== 'Status' ? response : undefined;
}

/** The object as the request left it, when the record holds it whole; undefined otherwise. */
export function resultObject(e: AuditEvent): (KubeObject & Record<string, unknown>) | undefined {
  const stored = storedObject(e);
  if (stored !== undefined) return stored;
  if ((e.verb === 'create' || e.verb === 'update') && isRecord(e.requestObject) && e.requestObject.kind !== 'Status') {
    return e.requestObject;
  }
  return undefined;
}

/** The request body of a patch (JSON patch list, merge or strategic merge or apply object). */
export function patchBody(e: AuditEvent): unknown {
  return e.verb === 'patch' ? e.requestObject : undefined;
}

/**
 * Whether the timeline reads what the request body holds, not only whether there is one
 * (hasNoBody): a patch's body, and a create's or update's when the response does not hold the
 * stored object (resultObject). A reader may leave any other request body unparsed.
 */
export function requestBodyRead(e: AuditEvent): boolean {
  return e.verb === 'patch' || storedObject(e) === undefined;
}

/** True when the record carries no body at all for this write (Metadata level, or bodies omitted). */
export function hasNoBody(e: AuditEvent): boolean {
  return e.requestObject === undefined && e.responseObject === undefined;
}

/**
 * Whether a patch body can change the field at `path` (e.g. ['spec', 'template']). Works for JSON
 * patches (RFC 6902 ops whose path is at, under or above the field) and for merge, strategic merge
 * and apply patches (the field, or a parent replaced by a non-object, is present).
 */
export function patchTouches(patch: unknown, path: readonly string[]): boolean {
  if (Array.isArray(patch)) {
    const target = '/' + path.join('/');
    return patch.some((op: unknown) => {
      if (!isRecord(op) || typeof op.path !== 'string') return false;
      const p = op.path;
      const from = typeof op.from === 'string' ? op.from : undefined;
      const hits = (q: string) => q === target || q.startsWith(target + '/') || target.startsWith(q + '/') || q === '';
      return op.op !== 'test' && (hits(p) || (op.op === 'move' && from !== undefined && hits(from)));
    });
  }
  let node: unknown = patch;
  for (const key of path) {
    if (!isRecord(node)) return false;
    if (!Object.hasOwn(node, key)) return false;
    node = node[key];
    if (!isRecord(node)) return true;
  }
  return true;
}

/** A copy without metadata.managedFields: large, and nothing in the timeline needs it. */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata?.managedFields === undefined) return obj;
  const metadata = { ...obj.metadata };
  delete metadata.managedFields;
  return { ...obj, metadata };
}

/** Who made the request: the impersonated user when there is one. */
export function requester(e: AuditEvent): string | undefined {
  return e.impersonatedUser?.username ?? e.user?.username;
}

/** The kube-controller-manager identities that write Deployments without being a deploy. */
export function isDeploymentController(user: string | undefined): boolean {
  return user === 'system:serviceaccount:kube-system:deployment-controller' || user === 'system:kube-controller-manager';
}

export function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

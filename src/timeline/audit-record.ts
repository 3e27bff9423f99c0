import type { Deployment, Job, KubeObject } from '../core/kube.js';
import { hasNoBody, keyOf, patchBody, patchTouches, requester, resultObject, stripManagedFields } from './audit-bodies.js';
import { CONTENT_PATHS, type ContentBody, type ContentFingerprints } from './audit-content.js';
import type { AuditEvent, TimedAuditEvent } from './audit-event.js';
import { isRolloutUndoPatch } from '../core/rollout.js';
import { patchShape, type PatchShape } from './patch-paths.js';

// The part of an audit record the timeline needs, extracted the moment the line is parsed. Records
// wait in the reorder window in this form, so what is held is small (a status update keeps a few
// numbers, not a whole Deployment) and no Secret body is ever held at all (F3): a ConfigMap's or
// Secret's content is reduced to a keyed digest right here.

export type TimelineResource = 'deployments' | 'configmaps' | 'secrets' | 'jobs';
const GROUP: Record<TimelineResource, string> = { deployments: 'apps', configmaps: '', secrets: '', jobs: 'batch' };
const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

interface Base {
  at: number;
  auditID: string;
  verb: 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
  namespace: string;
  /** Empty for a deletecollection, which names no object. */
  name: string;
  subresource: string | undefined;
  user: string | undefined;
  /** False at Metadata level (or when bodies were omitted). */
  hasBody: boolean;
}

export interface DeploymentRecord extends Base {
  resource: 'deployments';
  /** The Deployment as the write left it, when the record holds it whole. Slimmed for status writes. */
  object: Deployment | undefined;
  /**
   * `object` carries the whole spec. False for a status write at a generation already seen whole:
   * its spec is the one known then, so only spec.replicas is kept.
   */
  wholeSpec: boolean;
  /** `object` is the stored result (responseObject), not the client's request body. */
  stored: boolean;
  /** For a patch without a stored result: whether it can touch spec.template. */
  patchTouchesTemplate: boolean;
  /** For a patch with a stored result: its inferred type and the fields it wrote. */
  patch: PatchShape | undefined;
  /** The JSON patch `kubectl rollout undo` sends. */
  rolloutUndo: boolean;
}

export interface ConfigRecord extends Base {
  resource: 'configmaps' | 'secrets';
  /** Keyed digest of data/binaryData/stringData/immutable, when the record holds the whole object. */
  digest: string | undefined;
  /** For a patch without a stored result: whether it can touch the content fields. */
  patchTouchesContent: boolean;
  /** A deletecollection: the names it deleted (from the response list) when the record holds them, and its selector. */
  collection?: { names: string[] | undefined; selector: string | undefined };
}

export interface JobRecord extends Base {
  resource: 'jobs';
  object: Job | undefined;
  /** The status the write set: from the stored object, or from a status patch body. */
  status: JobStatusBody | undefined;
}

export interface JobStatusBody {
  startTime?: string;
  completionTime?: string;
  conditions?: { type?: string; status?: string; lastTransitionTime?: string }[];
}

export type TimelineRecord = DeploymentRecord | ConfigRecord | JobRecord;

/** Every record about these resources names one of them as a JSON string (objectRef.resource). */
export const TIMELINE_MENTIONS: readonly string[] = Object.keys(GROUP).map((r) => `"${r}"`);

/** The timeline resource an audit record is about (any verb), or undefined. */
export function resourceOf(e: AuditEvent): TimelineResource | undefined {
  const resource = e.objectRef?.resource;
  if (resource !== 'deployments' && resource !== 'configmaps' && resource !== 'secrets' && resource !== 'jobs') return undefined;
  return (e.objectRef?.apiGroup ?? '') === GROUP[resource] ? resource : undefined;
}

/** Whether a record can change the timeline: a write to a Deployment, ConfigMap, Secret or Job (a deletecollection of ConfigMaps or Secrets included). */
export function isTimelineEvent(e: AuditEvent): boolean {
  const resource = resourceOf(e);
  return resource !== undefined && WRITES.has(e.verb) && (e.verb !== 'deletecollection' || resource === 'configmaps' || resource === 'secrets');
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The generation each Deployment was last seen whole at, as records are read. Every spec change
 * bumps metadata.generation, so a status write at a generation already seen carries a spec that is
 * already known: most status writes then keep no spec at all while they wait in the reorder window.
 */
export class SeenGenerations {
  private readonly byKey = new Map<string, number>();

  /** True when the key was last seen whole at this generation; records the generation otherwise. */
  seen(key: string, generation: number | undefined): boolean {
    if (generation === undefined) return false;
    if (this.byKey.get(key) === generation) return true;
    this.byKey.set(key, generation);
    return false;
  }
}

/**
 * What a deployments/status write keeps: metadata and, at a generation not seen before, the whole
 * spec, since the object it carries is the last known state of the Deployment (the before-state of
 * its next deploy); never the managed field sets, kubectl's last-applied copy of the manifest or the
 * status conditions: the status is copied into a few numbers so the rest can go at once.
 */
function slimStatus(obj: Deployment, wholeSpec: boolean): Deployment {
  const s = obj.status;
  const metadata = { ...obj.metadata };
  delete metadata.managedFields;
  if (metadata.annotations?.[LAST_APPLIED] !== undefined) {
    metadata.annotations = Object.fromEntries(Object.entries(metadata.annotations).filter(([k]) => k !== LAST_APPLIED));
  }
  return {
    metadata,
    spec: wholeSpec && obj.spec !== undefined ? obj.spec : { replicas: obj.spec?.replicas },
    status: { observedGeneration: s?.observedGeneration, replicas: s?.replicas, updatedReplicas: s?.updatedReplicas, availableReplicas: s?.availableReplicas },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The names in a deletecollection's response (a v1 List of the deleted objects), and nothing else of them (F3). */
function deletedNames(response: unknown): string[] | undefined {
  if (!isRecord(response) || !Array.isArray(response.items)) return undefined;
  const names: string[] = [];
  for (const item of response.items as unknown[]) {
    const name = isRecord(item) && isRecord(item.metadata) ? item.metadata.name : undefined;
    if (typeof name !== 'string') return undefined;
    names.push(name);
  }
  return names;
}

function selectorOf(requestURI: string): string | undefined {
  const query = new URL(requestURI, 'http://apiserver').searchParams;
  const parts = [['labelSelector', query.get('labelSelector')], ['fieldSelector', query.get('fieldSelector')]].filter(([, v]) => v !== null && v !== '');
  return parts.length === 0 ? undefined : parts.map(([k, v]) => `${String(k)}=${String(v)}`).join('&');
}

function collectionDelete(base: Base, e: AuditEvent, resource: 'configmaps' | 'secrets'): ConfigRecord {
  return { ...base, resource, digest: undefined, patchTouchesContent: false, collection: { names: deletedNames(e.responseObject), selector: selectorOf(e.requestURI) } };
}

/** Reduces an accepted audit record to a TimelineRecord, or undefined when the timeline ignores it. */
export function toTimelineRecord(item: TimedAuditEvent, fingerprints: ContentFingerprints, generations: SeenGenerations): TimelineRecord | undefined {
  const e = item.event;
  const resource = resourceOf(e);
  const namespace = e.objectRef?.namespace;
  const name = e.objectRef?.name;
  if (resource === undefined || namespace === undefined || !WRITES.has(e.verb)) return undefined;
  const collection = e.verb === 'deletecollection';
  if (name === undefined && !collection) return undefined;
  const base: Base = {
    at: item.at,
    auditID: e.auditID,
    verb: e.verb as Base['verb'],
    namespace,
    name: name ?? '',
    subresource: e.objectRef?.subresource,
    user: requester(e),
    hasBody: !hasNoBody(e),
  };
  if (collection) return resource === 'configmaps' || resource === 'secrets' ? collectionDelete(base, e, resource) : undefined;
  const obj = resultObject(e);
  const patch = obj === undefined ? patchBody(e) : undefined;
  switch (resource) {
    case 'deployments': {
      const d = obj as Deployment | undefined;
      const stored = isRecord(e.responseObject) && e.responseObject.kind !== 'Status';
      const status = base.subresource === 'status';
      const seen = d !== undefined && d.spec !== undefined && (stored || status) && generations.seen(keyOf(namespace, base.name), d.metadata?.generation);
      const wholeSpec = d?.spec !== undefined && !(status && seen);
      const object = d === undefined ? undefined : status ? slimStatus(d, wholeSpec) : stripManagedFields(d);
      const shape = e.verb === 'patch' && stored && base.subresource === undefined ? patchShape(e.requestObject, e.requestURI, d) : undefined;
      return {
        ...base,
        resource,
        object,
        wholeSpec,
        stored,
        patchTouchesTemplate: patch !== undefined && patchTouches(patch, ['spec', 'template']),
        patch: shape,
        rolloutUndo: isRolloutUndoPatch(patchBody(e)),
      };
    }
    case 'configmaps':
    case 'secrets':
      return {
        ...base,
        resource,
        digest: obj === undefined ? undefined : fingerprints.of(obj as KubeObject & ContentBody),
        patchTouchesContent: patch !== undefined && CONTENT_PATHS.some((p) => patchTouches(patch, p)),
      };
    case 'jobs': {
      const job = obj as Job | undefined;
      const status = job?.status ?? (isRecord(patch) && isRecord(patch.status) ? patch.status : undefined);
      return { ...base, resource, object: job === undefined ? undefined : stripManagedFields(job), status };
    }
  }
}

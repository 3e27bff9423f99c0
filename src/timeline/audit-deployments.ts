import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import type { Deployment } from '../core/kube.js';
import { isDeploymentController, keyOf, patchBody, patchTouches, requester, resultObject, stripManagedFields } from './audit-bodies.js';
import type { TimedAuditEvent } from './audit-event.js';
import type { DeployRecord } from './deploys.js';
import type { ChangeEvent } from './events.js';

// Deployments in an audit log: which writes changed the pod template (a deploy, or a rollback when
// the template goes back to an earlier one), when each rollout completed, and the revision numbers
// the deployment controller gave them. Per Deployment only the last known object, its template and
// a short template history are kept, so memory follows the number of Deployments, not the log.

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const HISTORY_LIMIT = 20;

export interface TimelineSink {
  event(e: ChangeEvent): void;
  deploy(d: DeployRecord): void;
}

interface TemplateSeen {
  hash: string;
  revision: number | undefined;
}

interface State {
  /** Canonical JSON of the last known pod template; undefined when a body-less write made it unknown. */
  template: string | undefined;
  object: Deployment | undefined;
  revision: number | undefined;
  history: TemplateSeen[];
  latest: DeployRecord | undefined;
  /** The latest deploy's rollout has not been seen complete. */
  open: boolean;
}

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
  const replaced = new Set(
    patch.filter((op: unknown): op is { op: string; path: string } => typeof op === 'object' && op !== null && 'op' in op && op.op === 'replace' && 'path' in op).map((op) => op.path),
  );
  return replaced.has('/spec/template') && replaced.has('/metadata/annotations');
}

function hashOf(template: string): string {
  return createHash('sha256').update(template).digest('base64');
}

export class DeploymentTracker {
  private readonly states = new Map<string, State>();

  constructor(private readonly sink: TimelineSink) {}

  handle({ at, event: e }: TimedAuditEvent): void {
    const ns = e.objectRef?.namespace;
    const name = e.objectRef?.name;
    if (ns === undefined || name === undefined) return;
    const key = keyOf(ns, name);
    const sub = e.objectRef?.subresource;
    if (sub === 'status') {
      if (e.verb === 'update' || e.verb === 'patch') this.status(at, e, this.state(key));
      return;
    }
    if (sub !== undefined) return; // scale: replicas only, never a deploy
    if (e.verb === 'delete') this.states.delete(key);
    else if (e.verb === 'create' || e.verb === 'update' || e.verb === 'patch') this.write(at, { ns, name }, e, this.state(key));
  }

  private state(key: string): State {
    let s = this.states.get(key);
    if (s === undefined) {
      s = { template: undefined, object: undefined, revision: undefined, history: [], latest: undefined, open: false };
      this.states.set(key, s);
    }
    return s;
  }

  private write(at: number, id: { ns: string; name: string }, e: TimedAuditEvent['event'], state: State): void {
    const user = requester(e);
    const raw = resultObject(e) as Deployment | undefined;
    const obj = raw === undefined ? undefined : stripManagedFields(raw);
    // The controller only writes the revision annotation; its copy of the template is the truth.
    if (isDeploymentController(user)) {
      if (obj !== undefined) this.observe(state, obj);
      return;
    }
    const created = e.verb === 'create';
    const template = obj === undefined ? undefined : canonicalJson(obj.spec?.template);
    let change: DeployRecord['templateChange'] | 'none';
    if (created) change = 'changed';
    else if (template !== undefined && state.template !== undefined) change = template === state.template ? 'none' : 'changed';
    else if (obj !== undefined) change = specUnchanged(obj) ? 'none' : 'possible';
    else {
      const patch = patchBody(e);
      change = patch !== undefined && !patchTouches(patch, ['spec', 'template']) ? 'none' : 'possible';
    }
    if (change === 'none') {
      if (obj !== undefined) this.observe(state, obj);
      return;
    }
    const before = created ? undefined : state.object;
    const hash = template === undefined ? undefined : hashOf(template);
    // Only a compared change can be told to restore an earlier template.
    const restored = change === 'changed' && hash !== undefined ? state.history.find((h) => h.hash === hash) : undefined;
    const undo = isRolloutUndoPatch(patchBody(e));
    const rollback: DeployRecord['rollback'] =
      restored !== undefined || undo ? { how: undo ? 'rollout-undo' : 'template-restored', toRevision: restored?.revision } : undefined;
    if (state.latest !== undefined && state.open) state.latest.supersededAt = at;
    const record: DeployRecord = {
      namespace: id.ns,
      name: id.name,
      start: at,
      auditID: e.auditID,
      user,
      templateChange: change,
      created,
      before,
      after: obj,
      revision: { current: undefined, previous: created ? undefined : (revisionOf(before) ?? revisionOf(obj) ?? state.revision) },
      completeAt: undefined,
      statusSeenAt: undefined,
      supersededAt: undefined,
      rollback,
    };
    state.latest = record;
    state.open = true;
    state.template = template;
    state.object = obj;
    if (hash !== undefined) this.remember(state, hash, undefined);
    this.sink.deploy(record);
    this.sink.event({ type: 'deployment-template-change', at, namespace: id.ns, name: id.name, before, after: obj, created, ...(user !== undefined ? { user } : {}) });
    if (rollback !== undefined) {
      const to = rollback.toRevision === undefined ? 'an earlier template' : `the template of revision ${rollback.toRevision}`;
      this.sink.event({
        type: 'rollback',
        at,
        namespace: id.ns,
        name: id.name,
        by: user ?? 'unknown',
        reason: `${rollback.how === 'rollout-undo' ? 'kubectl rollout undo' : 'template change'} restored ${to}`,
        ...(rollback.toRevision !== undefined ? { toRevision: rollback.toRevision } : {}),
      });
    }
  }

  /** A write that did not change the template: refresh what is known (template, object, revision). */
  private observe(state: State, obj: Deployment): void {
    const template = canonicalJson(obj.spec?.template);
    state.template = template;
    state.object = obj;
    const rev = revisionOf(obj);
    if (rev === undefined) return;
    state.revision = rev;
    this.assignRevision(state, rev);
    this.remember(state, hashOf(template), rev);
  }

  private status(at: number, e: TimedAuditEvent['event'], state: State): void {
    const obj = resultObject(e) as Deployment | undefined;
    if (obj === undefined) return; // Metadata level: the rollout state stays unknown (F1)
    const rev = revisionOf(obj);
    if (rev !== undefined) state.revision = rev;
    const record = state.latest;
    if (record === undefined || !state.open) return;
    record.statusSeenAt ??= at;
    if (rev !== undefined) this.assignRevision(state, rev);
    if (rolloutComplete(obj, record.after?.metadata?.generation)) {
      record.completeAt = at;
      state.open = false;
      this.sink.event({ type: 'rollout-complete', at, namespace: record.namespace, name: record.name });
    }
  }

  /** The controller bumps the revision annotation right after a template change: that is the deploy's revision. */
  private assignRevision(state: State, rev: number): void {
    const record = state.latest;
    if (record === undefined || record.revision.current !== undefined || rev === record.revision.previous) return;
    record.revision.current = rev;
  }

  private remember(state: State, hash: string, revision: number | undefined): void {
    const i = state.history.findIndex((h) => h.hash === hash);
    const known = i >= 0 ? state.history[i]?.revision : undefined;
    if (i >= 0) state.history.splice(i, 1);
    state.history.push({ hash, revision: revision ?? known });
    if (state.history.length > HISTORY_LIMIT) state.history.shift();
  }
}

/**
 * A Deployment seen for the first time: its spec did not change in this write when the controller
 * had already observed its generation (a spec change bumps metadata.generation first).
 */
function specUnchanged(obj: Deployment): boolean {
  const generation = obj.metadata?.generation;
  const observed = obj.status?.observedGeneration;
  return generation !== undefined && observed !== undefined && observed >= generation;
}

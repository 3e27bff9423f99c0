import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import type { Deployment } from '../core/kube.js';
import { isDeploymentController, keyOf } from './audit-bodies.js';
import type { DeploymentRecord } from './audit-record.js';
import type { DeployRecord } from './deploys.js';
import type { ChangeEvent } from '../core/change-events.js';
import { revisionOf, rolloutComplete } from '../core/rollout.js';
import type { BeforeState } from '../core/before-state.js';
import { touchesTemplate, type PatchShape } from './patch-paths.js';

// Deployments in an audit log: which writes changed the pod template (a deploy, or a rollback when
// the template goes back to an earlier one), when each rollout completed, and the revision numbers
// the deployment controller gave them. Per Deployment only the last known object, its template and
// a short template history are kept, so memory follows the number of Deployments, not the log.

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
  /** The last known object (any write that held it whole, status writes included); undefined when a body-less write made it unknown. */
  object: Deployment | undefined;
  /** Which record showed `object`. */
  knownFrom: { at: number; source: string } | undefined;
  /** The last object a stored result or a status write showed whole (kept when a body-less write makes `object` unknown). */
  lastWhole: Deployment | undefined;
  /** Canonical JSON of `object`'s pod template, computed when first compared. */
  template: string | undefined;
  revision: number | undefined;
  history: TemplateSeen[];
  latest: DeployRecord | undefined;
  /** The latest deploy's rollout has not been seen complete. */
  open: boolean;
}

function hashOf(template: string): string {
  return createHash('sha256').update(template).digest('base64');
}

/** With revisionHistoryLimit 0 the controller deletes every old ReplicaSet: nothing to roll back to. */
function keepsNoHistory(obj: Deployment | undefined): boolean {
  return obj?.spec?.revisionHistoryLimit === 0;
}

export class DeploymentTracker {
  private readonly states = new Map<string, State>();

  constructor(private readonly sink: TimelineSink) {}

  handle(r: DeploymentRecord): void {
    const key = keyOf(r.namespace, r.name);
    if (r.subresource === 'status') {
      if (r.verb === 'update' || r.verb === 'patch') this.status(r, this.state(key));
      return;
    }
    if (r.subresource !== undefined) return; // scale: replicas only, never a deploy
    if (r.verb === 'delete') this.states.delete(key);
    else this.write(r, this.state(key));
  }

  private state(key: string): State {
    let s = this.states.get(key);
    if (s === undefined) {
      s = { object: undefined, knownFrom: undefined, lastWhole: undefined, template: undefined, revision: undefined, history: [], latest: undefined, open: false };
      this.states.set(key, s);
    }
    return s;
  }

  private write(r: DeploymentRecord, state: State): void {
    const { at, user, object: obj } = r;
    // The controller only writes the revision annotation; its copy of the template is the truth.
    if (isDeploymentController(user)) {
      if (obj !== undefined) this.observe(state, obj, r);
      return;
    }
    const created = r.verb === 'create';
    const template = obj === undefined ? undefined : canonicalJson(obj.spec?.template);
    const known = knownTemplate(state);
    let change: DeployRecord['templateChange'] | 'none';
    if (created) change = 'changed';
    else if (template !== undefined && known !== undefined) change = template === known ? 'none' : 'changed';
    else if (obj !== undefined) change = r.stored && (specUnchanged(obj) || leavesTemplate(r.patch)) ? 'none' : 'possible';
    else change = r.verb === 'patch' && r.hasBody && !r.patchTouchesTemplate ? 'none' : 'possible';
    if (change === 'none') {
      if (obj !== undefined) this.observe(state, obj, r);
      return;
    }
    const before = created ? undefined : state.object;
    const beforeKnown = beforeStateOf(r, created ? undefined : state.knownFrom, before);
    const hash = template === undefined ? undefined : hashOf(template);
    // Only a compared change can be told to restore an earlier template.
    const restored = change === 'changed' && hash !== undefined ? state.history.find((h) => h.hash === hash) : undefined;
    const undo = r.rolloutUndo;
    const rollback: DeployRecord['rollback'] =
      restored !== undefined || undo ? { how: undo ? 'rollout-undo' : 'template-restored', toRevision: restored?.revision } : undefined;
    if (state.latest !== undefined && state.open) state.latest.supersededAt = at;
    const previous = created ? undefined : state.latest;
    const record: DeployRecord = {
      namespace: r.namespace,
      name: r.name,
      start: at,
      auditID: r.auditID,
      user,
      templateChange: change,
      created,
      before,
      beforeKnown,
      after: obj,
      revision: { current: undefined, previous: created || keepsNoHistory(obj) ? null : (revisionOf(before) ?? revisionOf(obj) ?? state.revision) },
      completeAt: undefined,
      statusSeenAt: undefined,
      supersededAt: undefined,
      rollback,
      oldTemplateSince: previous?.templateChange === 'changed' && previous.rollback === undefined ? previous.start : undefined,
    };
    state.latest = record;
    state.open = true;
    this.know(state, obj, r, template);
    if (hash !== undefined) this.remember(state, hash, undefined);
    this.sink.deploy(record);
    this.sink.event({ type: 'deployment-template-change', at, namespace: r.namespace, name: r.name, before, after: obj, created, ...(user !== undefined ? { user } : {}) });
    if (rollback !== undefined) {
      const to = rollback.toRevision === undefined ? 'an earlier template' : `the template of revision ${rollback.toRevision}`;
      this.sink.event({
        type: 'rollback',
        at,
        namespace: r.namespace,
        name: r.name,
        by: user ?? 'unknown',
        reason: `${rollback.how === 'rollout-undo' ? 'kubectl rollout undo' : 'template change'} restored ${to}`,
        ...(rollback.toRevision !== undefined ? { toRevision: rollback.toRevision } : {}),
      });
    }
  }

  /** The last known object, from this record; `template` when already computed. */
  private know(state: State, obj: Deployment | undefined, r: DeploymentRecord, template?: string): void {
    state.object = obj;
    if (obj !== undefined && r.wholeSpec && (r.stored || r.subresource === 'status')) state.lastWhole = obj;
    state.knownFrom = obj === undefined ? undefined : { at: r.at, source: sourceOf(r) };
    state.template = template;
  }

  /** A write that did not change the template: refresh what is known (template, object, revision). */
  private observe(state: State, obj: Deployment, r: DeploymentRecord): void {
    const template = canonicalJson(obj.spec?.template);
    this.know(state, obj, r, template);
    const rev = revisionOf(obj);
    if (rev === undefined) return;
    state.revision = rev;
    this.assignRevision(state, rev);
    this.remember(state, hashOf(template), rev);
  }

  private status(r: DeploymentRecord, state: State): void {
    const { at, object: obj } = r;
    if (obj === undefined) return; // Metadata level: the rollout state stays unknown (F1)
    // The object a status write holds is the last known state, unless it is older than the one
    // known (a spec write bumps the generation; records may be ordered a little off). Without its
    // spec, it is at a generation seen whole before: that spec, with this write's metadata.
    const generation = obj.metadata?.generation;
    const whole = r.wholeSpec ? obj : sameGeneration(state.lastWhole, obj);
    const knownGeneration = state.object?.metadata?.generation;
    if (whole !== undefined && (knownGeneration === undefined || (generation !== undefined && generation >= knownGeneration))) this.know(state, whole, { ...r, wholeSpec: true });
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
 * A Deployment seen for the first time: its spec did not change in this write when the stored
 * result shows the controller had already observed its generation (a spec change bumps
 * metadata.generation first). A client's request body says nothing about that.
 */
function specUnchanged(obj: Deployment): boolean {
  const generation = obj.metadata?.generation;
  const observed = obj.status?.observedGeneration;
  return generation !== undefined && observed !== undefined && observed >= generation;
}

/** The canonical template of the last known object, computed once per object (status writes are many). */
function knownTemplate(state: State): string | undefined {
  if (state.object === undefined) return undefined;
  state.template ??= canonicalJson(state.object.spec?.template);
  return state.template;
}

/** A patch whose type is known and which wrote nothing in or above spec.template left the template as it was. */
function leavesTemplate(patch: PatchShape | undefined): boolean {
  return patch !== undefined && 'touched' in patch && !patch.touched.some(touchesTemplate);
}

function sourceOf(r: DeploymentRecord): string {
  return `deployments${r.subresource === undefined ? '' : `/${r.subresource}`} ${r.verb}`;
}

const NO_EARLIER = 'no earlier object of this Deployment is in the log';

/** How the state before this write is known (R3), for the record. */
function beforeStateOf(r: DeploymentRecord, knownFrom: State['knownFrom'], before: Deployment | undefined): BeforeState {
  if (r.verb === 'create') return { how: 'unknown', why: 'the Deployment was created by this write' };
  if (before !== undefined && knownFrom !== undefined) return { how: 'object', ...knownFrom };
  const patch = r.patch;
  if (patch !== undefined && r.object !== undefined && 'touched' in patch) return { how: 'patch', patchType: patch.type, touched: patch.touched };
  if (patch?.type === 'apply') {
    return { how: 'unknown', why: `${NO_EARLIER}, and the write was a server-side apply, whose body is its field manager's whole intent: a field it stopped naming may have been removed` };
  }
  if (patch?.type === 'unreadable') return { how: 'unknown', why: `${NO_EARLIER}, and the patch body could not be read` };
  if (!r.hasBody) return { how: 'unknown', why: `${NO_EARLIER}, and the write was logged without a body (Metadata level)` };
  if (r.verb === 'patch' && r.object === undefined) return { how: 'unknown', why: `${NO_EARLIER}, and the patch's result was not logged (Request level)` };
  return { how: 'unknown', why: `${NO_EARLIER}; this ${r.verb} shows only the object after it` };
}

/** A status write's object without its spec, completed with the spec of the last whole object, when that is at the same generation. */
function sameGeneration(last: Deployment | undefined, obj: Deployment): Deployment | undefined {
  const generation = obj.metadata?.generation;
  if (last === undefined || generation === undefined || last.metadata?.generation !== generation) return undefined;
  return { ...obj, spec: { ...last.spec, replicas: obj.spec?.replicas } };
}

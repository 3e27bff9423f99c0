import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import type { Deployment } from '../core/kube.js';
import { isDeploymentController, keyOf } from './audit-bodies.js';
import type { DeploymentRecord } from './audit-record.js';
import type { DeployRecord } from './deploys.js';
import type { ChangeEvent } from '../core/change-events.js';
import { revisionOf, rolloutComplete } from '../core/rollout.js';

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
  /** Canonical JSON of the last known pod template; undefined when a body-less write made it unknown. */
  template: string | undefined;
  object: Deployment | undefined;
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
      s = { template: undefined, object: undefined, revision: undefined, history: [], latest: undefined, open: false };
      this.states.set(key, s);
    }
    return s;
  }

  private write(r: DeploymentRecord, state: State): void {
    const { at, user, object: obj } = r;
    // The controller only writes the revision annotation; its copy of the template is the truth.
    if (isDeploymentController(user)) {
      if (obj !== undefined) this.observe(state, obj);
      return;
    }
    const created = r.verb === 'create';
    const template = obj === undefined ? undefined : canonicalJson(obj.spec?.template);
    let change: DeployRecord['templateChange'] | 'none';
    if (created) change = 'changed';
    else if (template !== undefined && state.template !== undefined) change = template === state.template ? 'none' : 'changed';
    else if (obj !== undefined) change = r.stored && specUnchanged(obj) ? 'none' : 'possible';
    else change = r.verb === 'patch' && r.hasBody && !r.patchTouchesTemplate ? 'none' : 'possible';
    if (change === 'none') {
      if (obj !== undefined) this.observe(state, obj);
      return;
    }
    const before = created ? undefined : state.object;
    const hash = template === undefined ? undefined : hashOf(template);
    // Only a compared change can be told to restore an earlier template.
    const restored = change === 'changed' && hash !== undefined ? state.history.find((h) => h.hash === hash) : undefined;
    const undo = r.rolloutUndo;
    const rollback: DeployRecord['rollback'] =
      restored !== undefined || undo ? { how: undo ? 'rollout-undo' : 'template-restored', toRevision: restored?.revision } : undefined;
    if (state.latest !== undefined && state.open) state.latest.supersededAt = at;
    const record: DeployRecord = {
      namespace: r.namespace,
      name: r.name,
      start: at,
      auditID: r.auditID,
      user,
      templateChange: change,
      created,
      before,
      after: obj,
      revision: { current: undefined, previous: created || keepsNoHistory(obj) ? null : (revisionOf(before) ?? revisionOf(obj) ?? state.revision) },
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

  private status({ at, object: obj }: DeploymentRecord, state: State): void {
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
 * A Deployment seen for the first time: its spec did not change in this write when the stored
 * result shows the controller had already observed its generation (a spec change bumps
 * metadata.generation first). A client's request body says nothing about that.
 */
function specUnchanged(obj: Deployment): boolean {
  const generation = obj.metadata?.generation;
  const observed = obj.status?.observedGeneration;
  return generation !== undefined && observed !== undefined && observed >= generation;
}

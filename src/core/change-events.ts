import type { Deployment, Job } from './kube.js';

// The normalized change timeline the core reasons about. Two adapters produce it: the agent (from
// admission stamps and watches) and replay (from a Kubernetes audit log). Times are epoch ms.

/** A Deployment's pod template changed: a deploy started (or a rollback did). */
export interface DeploymentTemplateChange {
  type: 'deployment-template-change';
  at: number;
  namespace: string;
  name: string;
  /** The Deployment before the change; undefined when unknown (Metadata-level audit) or on CREATE. */
  before: Deployment | undefined;
  /** The Deployment after the change; undefined when unknown. */
  after: Deployment | undefined;
  /** True when this object was created by this event. */
  created: boolean;
  /** Who made the change (the request's user), where known. */
  user?: string;
}

/** A rollout finished: all replicas updated and available at the current generation. */
export interface RolloutComplete {
  type: 'rollout-complete';
  at: number;
  namespace: string;
  name: string;
}

/**
 * A ConfigMap or Secret write. `content` says whether its data changed: `changed` (data, binaryData,
 * stringData or immutable differ), `unchanged` (metadata only) or `unknown` (no stamp, or an audit
 * record without a body). A delete is always a change.
 */
export interface ConfigChange {
  type: 'config-change';
  at: number;
  namespace: string;
  kind: 'ConfigMap' | 'Secret';
  name: string;
  action: 'create' | 'update' | 'delete';
  content: 'changed' | 'unchanged' | 'unknown';
}

/**
 * A deletecollection of ConfigMaps or Secrets (the audit log names no object for it): any of them,
 * the ones a template reads included, may be gone.
 */
export interface ConfigCollectionDelete {
  type: 'config-collection-delete';
  at: number;
  namespace: string;
  kind: 'ConfigMap' | 'Secret';
}

/** A Job's run. `finishedAt` is undefined while it runs (or when its end is unknown). */
export interface JobRun {
  type: 'job-run';
  namespace: string;
  name: string;
  startedAt: number;
  finishedAt: number | undefined;
  job: Job | undefined;
}

/** A rollback (by rollguard or a person), which starts a blackout. */
export interface Rollback {
  type: 'rollback';
  at: number;
  namespace: string;
  name: string;
  by: string;
  reason: string;
  toRevision?: number;
}

export type ChangeEvent = DeploymentTemplateChange | RolloutComplete | ConfigChange | ConfigCollectionDelete | JobRun | Rollback;

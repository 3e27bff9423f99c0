import { createHash } from 'node:crypto';
import type { AuditEvent } from '../../src/timeline/audit-event.js';
import {
  auditEvent,
  CONTROLLER_AGENT,
  DEPLOYMENT_CONTROLLER,
  deploymentObject,
  jobObject,
  type AuditSpec,
} from '../../test/fixtures/audit/builders.js';

// The audit records of a Deployment's life in the example cluster, as the audit policy of docs/replay.md
// writes them (RequestResponse for deployments and deployments/status, Metadata for the rest of
// what the controllers do): the write that starts a rollout, the controller's revision stamp, the
// status reports until every replica is updated and available, and the ReplicaSet/Pod churn.

export const MINUTE = 60_000;

/** Deterministic audit IDs (UUID-shaped) from the generator's seeded RNG. */
export class Ids {
  constructor(private readonly random: () => number) {}

  next(): string {
    const hex = (n: number) => Array.from({ length: n }, () => Math.floor(this.random() * 16).toString(16)).join('');
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(this.random() * 4)] ?? '8'}${hex(3)}-${hex(12)}`;
  }

  /** A ReplicaSet/Pod name suffix as the controllers make them. */
  suffix(n: number): string {
    const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
    return Array.from({ length: n }, () => alphabet[Math.floor(this.random() * alphabet.length)] ?? 'x').join('');
  }
}

export interface App {
  namespace: string;
  name: string;
  replicas: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  revisionHistoryLimit?: number;
}

/** One version of the Deployment: what its pod template runs. */
export interface Version {
  image: string;
  configMap?: string;
  secret?: string;
  /** deployment.kubernetes.io/revision the controller gave this template. */
  revision: number;
}

type Status = { observedGeneration: number; replicas: number; updatedReplicas: number; availableReplicas: number };

/** The Deployment as the apiserver stores it, at `generation`, running `version`. */
export function deployment(app: App, version: Version, generation: number, revision: number, status: Status, extraAnnotations: Record<string, string> = {}): Record<string, unknown> {
  const obj = deploymentObject({
    namespace: app.namespace,
    name: app.name,
    image: version.image,
    replicas: app.replicas,
    generation,
    revision,
    ...(version.configMap !== undefined ? { configMap: version.configMap } : {}),
    ...(version.secret !== undefined ? { secret: version.secret } : {}),
    status,
  });
  const metadata = obj.metadata as Record<string, unknown>;
  const spec = obj.spec as Record<string, unknown>;
  const h = createHash('sha256').update(`${app.namespace}/${app.name}`).digest('hex');
  const uid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return {
    ...obj,
    metadata: {
      ...metadata,
      uid,
      labels: { ...(metadata.labels as Record<string, string>), ...app.labels },
      annotations: { ...(metadata.annotations as Record<string, string>), ...app.annotations, ...extraAnnotations },
    },
    spec: { ...spec, revisionHistoryLimit: app.revisionHistoryLimit ?? 10 },
  };
}

export const steady = (replicas: number, generation: number): Status => ({ observedGeneration: generation, replicas, updatedReplicas: replicas, availableReplicas: replicas });

export interface Writer {
  user: string;
  userAgent: string;
}

export const CONTROLLER: Writer = { user: DEPLOYMENT_CONTROLLER, userAgent: CONTROLLER_AGENT };

/** A kube-controller-manager controller, e.g. 'job-controller', 'cronjob-controller'. */
export function controller(name: string): Writer {
  const user = `system:serviceaccount:kube-system:${name}`;
  return { user, userAgent: `kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/5864a46/${user}` };
}
export const KUBECTL = 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46';

export interface RolloutSpec {
  app: App;
  from: Version;
  to: Version;
  /** Generation before the rollout. */
  generation: number;
  at: number;
  by: Writer;
  /** The request body: a strategic merge patch, a JSON patch (rollout undo) or a whole object (update). */
  request: unknown;
  verb?: 'patch' | 'update';
  /** How long until every replica is updated and available. */
  durationMs?: number;
}

export function ev(ids: Ids, spec: Omit<AuditSpec, 'auditID'>): AuditEvent {
  return auditEvent({ ...spec, auditID: ids.next() });
}

/** Metadata-level churn of a rollout: the new ReplicaSet, its Pods, the old Pods going away, Events. */
function churn(ids: Ids, app: App, at: number, durationMs: number): AuditEvent[] {
  const rs = `${app.name}-${ids.suffix(9)}`;
  const ns = app.namespace;
  const out = [
    ev(ids, { verb: 'create', resource: 'replicasets', namespace: ns, name: rs, at: at + 40, level: 'Metadata', ...CONTROLLER }),
    ev(ids, { verb: 'create', resource: 'events', namespace: ns, name: `${app.name}.${ids.suffix(16)}`, at: at + 45, level: 'Metadata', ...CONTROLLER }),
  ];
  for (let i = 0; i < app.replicas; i++) {
    const t = at + ((i + 0.5) * durationMs) / app.replicas;
    const pod = `${rs}-${ids.suffix(5)}`;
    out.push(
      ev(ids, { verb: 'create', resource: 'pods', namespace: ns, name: pod, at: t, level: 'Metadata', ...controller('replicaset-controller') }),
      ev(ids, { verb: 'create', resource: 'events', namespace: ns, name: `${pod}.${ids.suffix(16)}`, at: t + 900, level: 'Metadata', user: 'system:node:node-2', userAgent: 'kubelet/v1.31.2 (linux/amd64) kubernetes/5864a46' }),
      ev(ids, { verb: 'update', resource: 'replicasets', namespace: ns, name: rs, subresource: 'status', at: t + 1500, level: 'Metadata', ...controller('replicaset-controller') }),
      ev(ids, { verb: 'delete', resource: 'pods', namespace: ns, name: `${app.name}-old-${ids.suffix(5)}`, at: t + 20_000, level: 'Metadata', ...controller('replicaset-controller') }),
    );
  }
  return out;
}

/**
 * A rollout from `from` to `to`: the write, the controller's revision stamp, status reports as
 * replicas are updated, and the final report with every replica updated and available.
 */
export function rollout(ids: Ids, s: RolloutSpec, extraAnnotations: Record<string, string> = {}): AuditEvent[] {
  const { app, generation: g, at } = s;
  const n = app.replicas;
  const duration = s.durationMs ?? 4.5 * MINUTE;
  const surge = Math.max(1, Math.ceil(n / 4));
  const written = deployment(app, s.to, g + 1, s.from.revision, { ...steady(n, g) }, extraAnnotations);
  const stamped = deployment(app, s.to, g + 1, s.to.revision, { ...steady(n, g) }, extraAnnotations);
  const events: AuditEvent[] = [
    ev(ids, { verb: s.verb ?? 'patch', resource: 'deployments', namespace: app.namespace, name: app.name, at, ...s.by, requestObject: s.request, responseObject: written }),
    ev(ids, { verb: 'update', resource: 'deployments', namespace: app.namespace, name: app.name, at: at + 25, ...CONTROLLER, requestObject: stamped, responseObject: stamped }),
  ];
  const reports = [0.1, 0.35, 0.6, 0.85, 1];
  for (const share of reports) {
    const updated = share >= 1 ? n : Math.min(n, Math.max(1, Math.round(n * share)));
    const status = share >= 1 ? steady(n, g + 1) : { observedGeneration: g + 1, replicas: n + surge, updatedReplicas: updated, availableReplicas: n };
    const obj = deployment(app, s.to, g + 1, s.to.revision, status, extraAnnotations);
    events.push(ev(ids, { verb: 'update', resource: 'deployments', subresource: 'status', namespace: app.namespace, name: app.name, at: at + Math.round(duration * share), ...CONTROLLER, requestObject: obj, responseObject: obj }));
  }
  return [...events, ...churn(ids, app, at, duration)];
}

/**
 * A write that shows the Deployment whole without changing its pod template (an annotation patch;
 * the stored object comes back in the response): how the log first sees it. `annotations` must be
 * among `app.annotations`, so every later object carries them too.
 */
export function metadataPatch(ids: Ids, app: App, version: Version, generation: number, at: number, by: Writer, annotations: Record<string, string>): AuditEvent {
  const stored = deployment(app, version, generation, version.revision, steady(app.replicas, generation));
  return ev(ids, {
    verb: 'patch',
    resource: 'deployments',
    namespace: app.namespace,
    name: app.name,
    at,
    ...by,
    requestObject: { metadata: { annotations } },
    responseObject: stored,
  });
}

/** What `kubectl set image` sends. */
export function setImage(image: string): unknown {
  return { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } };
}


/** A Job as the apiserver stores it, running `image` (the fixture's default image is a migration tool's). */
export function job(name: string, namespace: string, image: string, opts: { command?: string[]; labels?: Record<string, string>; status?: Record<string, unknown> } = {}): Record<string, unknown> {
  const obj = jobObject(name, opts, namespace);
  const spec = obj.spec as { template: { spec: { containers: Record<string, unknown>[] } } };
  const containers = spec.template.spec.containers.map((c) => ({ ...c, image }));
  return { ...obj, spec: { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, containers } } } };
}

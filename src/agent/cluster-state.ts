import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { InformerStampCache } from '../stamps/informer-stamp-cache.js';
import type { Deployment, Job, ReplicaSet } from '../core/kube.js';
import { ownedReplicaSets } from '../core/rollback-plan.js';
import { Informer, type InformerEvent } from '../kube/informer.js';
import { KubeRest, paths } from '../kube/rest.js';
import type { KubeAccess } from '../kube/connection.js';

// What the agent watches: Deployments in full; ReplicaSets, ConfigMaps and Secrets (through the
// webhook's own stamp cache) and Jobs as metadata only. One place answers "what is there now" and
// "is that complete" (every informer has listed since its last failure). A ReplicaSet's template is
// read only when a decision needs it (the previous revision of a deploy in its span, a rollback's
// target): caching every ReplicaSet in full doubled the agent's memory per Deployment.

/** Templates read in full and kept, per ReplicaSet uid and generation; far more than are in a span at once. */
const SPEC_CACHE_LIMIT = 512;

export interface ClusterStateOptions {
  kubeConfig: KubeAccess;
  logger: Logger;
  clock: () => number;
  restartDelayMs?: number;
}

export class ClusterState {
  readonly deployments: Informer<Deployment & KubernetesObject>;
  readonly replicaSets: Informer<ReplicaSet & KubernetesObject>;
  readonly jobs: Informer<Job & KubernetesObject>;
  readonly config: InformerStampCache;
  private readonly rest: KubeRest;
  private readonly specs = new Map<string, ReplicaSet['spec']>();

  constructor(opts: ClusterStateOptions) {
    this.rest = new KubeRest(opts.kubeConfig);
    const base = { kubeConfig: opts.kubeConfig, logger: opts.logger, clock: opts.clock, ...(opts.restartDelayMs === undefined ? {} : { restartDelayMs: opts.restartDelayMs }) };
    this.deployments = new Informer({ ...base, path: '/apis/apps/v1/deployments', metadataOnly: false });
    this.replicaSets = new Informer({ ...base, path: '/apis/apps/v1/replicasets', metadataOnly: true });
    this.jobs = new Informer({ ...base, path: '/apis/batch/v1/jobs', metadataOnly: true });
    this.config = new InformerStampCache(base);
  }

  onDeployment(handler: (event: InformerEvent, d: Deployment) => void): void {
    this.deployments.on(handler);
  }

  onJob(handler: (event: InformerEvent, j: Job) => void): void {
    this.jobs.on(handler);
  }

  async start(): Promise<void> {
    await Promise.all([this.deployments.start(), this.replicaSets.start(), this.jobs.start(), this.config.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.deployments.stop(), this.replicaSets.stop(), this.jobs.stop(), this.config.stop()]);
  }

  /** The informers that have not listed since they started or last failed. */
  unsynced(): string[] {
    const out: string[] = [];
    if (!this.deployments.synced()) out.push('Deployments');
    if (!this.replicaSets.synced()) out.push('ReplicaSets');
    if (!this.jobs.synced()) out.push('Jobs');
    if (!this.config.synced()) out.push('ConfigMaps/Secrets');
    return out;
  }

  lastEvents(): { resource: string; at: number | undefined }[] {
    return [
      { resource: 'deployments', at: this.deployments.lastEvent() },
      { resource: 'replicasets', at: this.replicaSets.lastEvent() },
      { resource: 'jobs', at: this.jobs.lastEvent() },
      ...this.config.lastEvents(),
    ];
  }

  deployment(namespace: string, name: string): Deployment | undefined {
    return this.deployments.get(namespace, name);
  }

  allDeployments(namespace?: string): readonly Deployment[] {
    return this.deployments.list(namespace);
  }

  /** The namespace's ReplicaSets as metadata: owners, revisions, creation; no template. */
  replicaSetsIn(namespace: string): readonly ReplicaSet[] {
    return this.replicaSets.list(namespace);
  }

  /**
   * The namespace's ReplicaSets with the spec (template) of those the Deployment owns at
   * `revisions` read in full. Throws when one cannot be read; the caller says so (F1).
   */
  async replicaSetsWithTemplates(deployment: Deployment, revisions: readonly (number | null | undefined)[]): Promise<ReplicaSet[]> {
    const metas = this.replicaSetsIn(deployment.metadata?.namespace ?? '');
    const wanted = new Set(ownedReplicaSets(deployment, metas).filter((o) => revisions.includes(o.revision)).map((o) => o.replicaSet));
    return Promise.all(metas.map((rs) => (wanted.has(rs) ? this.withSpec(rs) : Promise.resolve(rs))));
  }

  /** For a rollback to `revision`: the ReplicaSets with its template, or as metadata (and the plan refuses) when it cannot be read. */
  async replicaSetsForRollback(deployment: Deployment, revision: number, logger: Logger): Promise<readonly ReplicaSet[]> {
    try {
      return await this.replicaSetsWithTemplates(deployment, [revision]);
    } catch (err) {
      logger.warn({ namespace: deployment.metadata?.namespace, deployment: deployment.metadata?.name, revision, error: err instanceof Error ? err.message : String(err) }, 'the rollback target ReplicaSet could not be read');
      return this.replicaSetsIn(deployment.metadata?.namespace ?? '');
    }
  }

  private async withSpec(rs: ReplicaSet): Promise<ReplicaSet> {
    const key = `${rs.metadata?.uid ?? ''}/${String(rs.metadata?.generation ?? '')}`;
    let spec = this.specs.get(key);
    if (spec === undefined) {
      const full = await this.rest.get<ReplicaSet>(paths.replicaSet(rs.metadata?.namespace ?? '', rs.metadata?.name ?? ''));
      // Another generation of the same object may have been read in the meantime: keep the one asked for.
      if (full.metadata?.uid !== rs.metadata?.uid || full.metadata?.generation !== rs.metadata?.generation) return { ...rs, spec: full.spec };
      spec = full.spec;
      this.specs.set(key, spec);
      if (this.specs.size > SPEC_CACHE_LIMIT) this.specs.delete(this.specs.keys().next().value ?? '');
    }
    // The metadata (annotations kubectl copies on a rollback) is the informer's, which is current.
    return { ...rs, spec };
  }

  jobsIn(namespace: string): readonly Job[] {
    return this.jobs.list(namespace);
  }
}

import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { InformerStampCache } from '../stamps/informer-stamp-cache.js';
import type { Deployment, Job, ReplicaSet } from '../core/kube.js';
import { ownedReplicaSets } from '../core/rollback-plan.js';
import { Informer, type InformerEvent } from '../kube/informer.js';
import { KubeRest, paths } from '../kube/rest.js';
import type { KubeAccess } from '../kube/connection.js';
import { keptDeployment, keptJob, keptReplicaSet, lacksLastApplied, likeNeighbours, ownerName, shareOwnerAnnotations } from './kept-objects.js';
import { shareSubtrees } from './shared-subtrees.js';

// What the agent watches: Deployments in full but for what no decision reads (kept-objects.ts);
// ReplicaSets as a compact record of their metadata; ConfigMaps and Secrets (through the webhook's
// own stamp cache) and Jobs as metadata only. One place answers "what is there now" and
// "is that complete" (every informer has listed since its last failure). A ReplicaSet's template is
// read only when a decision needs it (the previous revision of a deploy in its span, a rollback's
// target): caching every ReplicaSet in full doubled the agent's memory per Deployment. Templates
// read are kept while they are asked for (every pass asks again for each deploy in its span), so
// the cache is as large as the deploys in their span, and drops the rest after SPEC_IDLE_MS.

/** A template not asked for this long is dropped: longer than any evaluation interval, shorter than a span. */
export const SPEC_IDLE_MS = 10 * 60_000;

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
  /** Templates read, per ReplicaSet uid and generation, with when each was last asked for. */
  private readonly specs = new Map<string, { spec: ReplicaSet['spec']; usedAt: number }>();
  private readonly clock: () => number;
  private sweptAt = Number.NEGATIVE_INFINITY;

  constructor(opts: ClusterStateOptions) {
    this.rest = new KubeRest(opts.kubeConfig);
    this.clock = opts.clock;
    const base = { kubeConfig: opts.kubeConfig, logger: opts.logger, clock: opts.clock, ...(opts.restartDelayMs === undefined ? {} : { restartDelayMs: opts.restartDelayMs }) };
    this.deployments = new Informer({ ...base, path: '/apis/apps/v1/deployments', metadataOnly: false, trim: likeNeighbours(keptDeployment) });
    const rsLikeNeighbours = likeNeighbours(keptReplicaSet);
    const ownerOf = (rs: ReplicaSet): Deployment | undefined => {
      const name = ownerName(rs);
      return name === undefined ? undefined : this.deployments.get(rs.metadata?.namespace ?? '', name);
    };
    this.replicaSets = new Informer({ ...base, path: '/apis/apps/v1/replicasets', metadataOnly: true, trim: (rs, previous) => shareOwnerAnnotations(rsLikeNeighbours(rs, previous), ownerOf(rs)) });
    this.replicaSets.on((event, rs) => {
      if (event === 'delete') for (const key of this.specs.keys()) if (key.startsWith(`${rs.metadata?.uid ?? ''}/`)) this.specs.delete(key);
    });
    this.jobs = new Informer({ ...base, path: '/apis/batch/v1/jobs', metadataOnly: true, trim: likeNeighbours(keptJob) });
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
    return Promise.all(metas.map((rs) => (wanted.has(rs) ? this.withSpec(rs, deployment) : Promise.resolve(rs))));
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

  /**
   * The Deployment a rollback patches, with what the cache left out and kubectl carries over (its
   * last-applied annotation), read again when the cache left something out. When the apiserver has
   * moved on, the cached one: the rollback's resourceVersion test then refuses the write, as it
   * would have. Throws when it cannot be read: nothing is written on a guess (F1).
   */
  async deploymentForRollback(cached: Deployment): Promise<Deployment> {
    if (!lacksLastApplied(cached)) return cached;
    const full = await this.rest.get<Deployment>(paths.deployment(cached.metadata?.namespace ?? '', cached.metadata?.name ?? ''));
    if (full.metadata?.uid !== cached.metadata?.uid || full.metadata?.resourceVersion !== cached.metadata?.resourceVersion) return cached;
    return { ...cached, metadata: { ...cached.metadata, annotations: full.metadata?.annotations ?? {} } };
  }

  private async withSpec(rs: ReplicaSet, owner: Deployment): Promise<ReplicaSet> {
    const key = `${rs.metadata?.uid ?? ''}/${String(rs.metadata?.generation ?? '')}`;
    const now = this.clock();
    this.sweep(now);
    let cached = this.specs.get(key);
    if (cached === undefined) {
      const full = await this.rest.get<ReplicaSet>(paths.replicaSet(rs.metadata?.namespace ?? '', rs.metadata?.name ?? ''));
      // Another generation of the same object may have been read in the meantime: keep the one asked for.
      if (full.metadata?.uid !== rs.metadata?.uid || full.metadata?.generation !== rs.metadata?.generation) return { ...rs, spec: full.spec };
      // Kept sharing what equals the Deployment's own spec: a deploy changes a few fields of it.
      cached = { spec: shareSubtrees(full.spec, owner.spec), usedAt: now };
      this.specs.set(key, cached);
    }
    cached.usedAt = now;
    // The metadata (annotations kubectl copies on a rollback) is the informer's, which is current.
    return { ...rs, spec: cached.spec };
  }

  /** Drops the templates no pass has asked for in SPEC_IDLE_MS; at most once a minute. */
  private sweep(now: number): void {
    if (now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    for (const [key, entry] of this.specs) if (now - entry.usedAt > SPEC_IDLE_MS) this.specs.delete(key);
  }

  /** How many templates are cached now (the deploys in their span, roughly). */
  cachedTemplates(): number {
    return this.specs.size;
  }

  jobsIn(namespace: string): readonly Job[] {
    return this.jobs.list(namespace);
  }
}

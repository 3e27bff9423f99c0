import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { InformerStampCache } from '../admission/informer-stamp-cache.js';
import type { Deployment, Job, ReplicaSet } from '../core/kube.js';
import { Informer, type InformerEvent } from '../kube/informer.js';

// What the agent watches: Deployments and ReplicaSets in full, ConfigMaps and Secrets (through the
// webhook's own stamp cache) and Jobs as metadata only. One place answers "what is there now" and
// "is that complete" (every informer has listed since its last failure).

export interface ClusterStateOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  clock: () => number;
  restartDelayMs?: number;
}

export class ClusterState {
  readonly deployments: Informer<Deployment & KubernetesObject>;
  readonly replicaSets: Informer<ReplicaSet & KubernetesObject>;
  readonly jobs: Informer<Job & KubernetesObject>;
  readonly config: InformerStampCache;

  constructor(opts: ClusterStateOptions) {
    const base = { kubeConfig: opts.kubeConfig, logger: opts.logger, clock: opts.clock, ...(opts.restartDelayMs === undefined ? {} : { restartDelayMs: opts.restartDelayMs }) };
    this.deployments = new Informer({ ...base, path: '/apis/apps/v1/deployments', metadataOnly: false });
    this.replicaSets = new Informer({ ...base, path: '/apis/apps/v1/replicasets', metadataOnly: false });
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

  replicaSetsIn(namespace: string): readonly ReplicaSet[] {
    return this.replicaSets.list(namespace);
  }

  jobsIn(namespace: string): readonly Job[] {
    return this.jobs.list(namespace);
  }
}

import type { Logger } from 'pino';
import { Informer } from '../kube/informer.js';
import { isStatus, type KubeRest } from '../kube/rest.js';
import { decisionPaths } from './decision-crd.js';
import type { RollbackDecisionObject } from './decision-object.js';
import { DecisionStore, type DecisionBackend } from './decision-store.js';
import type { KubeAccess } from '../kube/connection.js';

// The decision store on the apiserver: RollbackDecision objects in rollguard's namespace, written
// with the agent's own credentials (a Role there) and watched by every replica.

export function kubeDecisionBackend(rest: KubeRest, namespace: string): DecisionBackend {
  return {
    get: async (name) => {
      try {
        return await rest.get<RollbackDecisionObject>(decisionPaths.object(namespace, name));
      } catch (err) {
        if (isStatus(err, 404)) return undefined;
        throw err;
      }
    },
    create: (o) => rest.create<RollbackDecisionObject>(decisionPaths.collection(namespace), o),
    replace: (o) => rest.update<RollbackDecisionObject>(decisionPaths.object(namespace, o.metadata.name), o),
    remove: async (name, resourceVersion) => {
      await rest.request('DELETE', decisionPaths.object(namespace, name), { apiVersion: 'v1', kind: 'DeleteOptions', ...(resourceVersion === undefined ? {} : { preconditions: { resourceVersion } }) });
    },
  };
}

/** The store, fed by a watch of the namespace's RollbackDecisions. */
export class WatchedDecisionStore extends DecisionStore {
  private readonly informer: Informer<RollbackDecisionObject>;

  constructor(opts: { rest: KubeRest; leaderRest?: KubeRest; kubeConfig: KubeAccess; namespace: string; logger: Logger; clock: () => number; restartDelayMs?: number; retentionMs?: number; maxClosed?: number }) {
    super({ backend: kubeDecisionBackend(opts.rest, opts.namespace), ...(opts.leaderRest === undefined ? {} : { leaderBackend: kubeDecisionBackend(opts.leaderRest, opts.namespace) }), namespace: opts.namespace, clock: opts.clock, ...(opts.retentionMs === undefined ? {} : { retentionMs: opts.retentionMs }), ...(opts.maxClosed === undefined ? {} : { maxClosed: opts.maxClosed }) });
    this.informer = new Informer<RollbackDecisionObject>({
      kubeConfig: opts.kubeConfig,
      path: decisionPaths.collection(opts.namespace),
      metadataOnly: false,
      logger: opts.logger,
      clock: opts.clock,
      ...(opts.restartDelayMs === undefined ? {} : { restartDelayMs: opts.restartDelayMs }),
    });
    this.informer.on((event, o) => {
      this.observe(event, o);
    });
  }

  async start(): Promise<void> {
    try {
      await this.informer.start();
    } catch (err) {
      if (isStatus(err, 404) || /404|not found/i.test(err instanceof Error ? err.message : String(err))) {
        throw new Error('the RollbackDecision CRD is not installed: apply charts/rollguard/crds/ (or `rollguard manifests --crds`) before starting the agent', { cause: err });
      }
      throw err;
    }
  }

  synced(): boolean {
    return this.informer.synced();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}

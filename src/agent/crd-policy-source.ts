import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { policyPaths } from '../policy/policy-crds.js';
import type { PolicyObjectsView } from '../policy/policy-objects-view.js';
import type { Policy } from '../core/policy.js';
import { refText, toPolicyObject, type PolicyKind, type PolicyObject } from '../core/policy-objects.js';
import { capMode, effectiveFor, resolvePolicyObjects, type Resolution } from '../core/policy-resolution.js';
import { Informer } from '../kube/informer.js';
import { isStatus, KubeRest } from '../kube/rest.js';
import { FencedRest } from './fenced-rest.js';
import type { PolicySource } from './policy-source.js';
import { PolicyStatusWriter } from './policy-status-writer.js';
import type { KubeAccess } from '../kube/connection.js';

// Policies from the cluster (`--policy-source crd`): ClusterRollbackPolicy and RollbackPolicy
// objects, watched, so a change applies at the next decision without a restart. What applies is
// resolvePolicyObjects' answer; the agent's leader also writes each object's status. Until both
// kinds have listed (and while a watch is being restarted) every mode is at most suggest (F1).

export interface CrdPolicySourceOptions {
  kubeConfig: KubeAccess;
  logger: Logger;
  clock?: () => number;
  restartDelayMs?: number;
  /** How long open() waits for the first list of both kinds. */
  syncTimeoutMs?: number;
  /** How often the leader re-checks every status (a write that failed is retried then). */
  resyncMs?: number;
}

export const CRDS_MISSING = `the policy CRDs (${policyPaths.discovery.slice('/apis/'.length)}: ClusterRollbackPolicy, RollbackPolicy) are not installed: kubectl apply -f charts/rollguard/crds/ (or rollguard manifests --crds | kubectl apply -f -), or give --policy FILE instead of --policy-source crd`;

export class CrdPolicySource implements PolicySource, PolicyObjectsView {
  private readonly informers: Record<PolicyKind, Informer<KubernetesObject>>;
  private readonly writer: PolicyStatusWriter;
  private readonly clock: () => number;
  private readonly reported = new Map<string, string>();
  private cached: Resolution | undefined;
  private scheduled = false;
  private isLeading = false;
  private surely: () => boolean = () => false;
  private resync: NodeJS.Timeout | undefined;

  private constructor(private readonly opts: CrdPolicySourceOptions) {
    this.clock = opts.clock ?? Date.now;
    const base = { kubeConfig: opts.kubeConfig, logger: opts.logger, clock: this.clock, metadataOnly: false, ...(opts.restartDelayMs === undefined ? {} : { restartDelayMs: opts.restartDelayMs }) };
    this.informers = {
      ClusterRollbackPolicy: new Informer({ ...base, path: policyPaths.collection('ClusterRollbackPolicy') }),
      RollbackPolicy: new Informer({ ...base, path: policyPaths.collection('RollbackPolicy') }),
    };
    for (const informer of Object.values(this.informers)) {
      informer.on(() => {
        this.changed();
      });
    }
    // A status write is the leader's, checked against the Lease as it is sent (F4).
    this.writer = new PolicyStatusWriter({ rest: new FencedRest(opts.kubeConfig, () => this.isLeading && this.surely()), logger: opts.logger, clock: this.clock });
  }

  /** Fails when the CRDs are not installed or cannot be listed: a policy source that is not there never means defaults (F1). */
  static async open(opts: CrdPolicySourceOptions): Promise<CrdPolicySource> {
    try {
      await new KubeRest(opts.kubeConfig).get(policyPaths.discovery);
    } catch (err) {
      if (isStatus(err, 404)) throw new Error(CRDS_MISSING, { cause: err });
      throw err;
    }
    const source = new CrdPolicySource(opts);
    await Promise.all(Object.values(source.informers).map((i) => i.start()));
    const timeoutMs = opts.syncTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    while (!source.synced()) {
      if (Date.now() > deadline) {
        source.stop();
        throw new Error(`could not list the policy CRDs within ${String(timeoutMs / 1000)}s: rollguard needs get, list and watch on rollbackpolicies and clusterrollbackpolicies (rollguard.io)`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return source;
  }

  synced(): boolean {
    return Object.values(this.informers).every((i) => i.synced());
  }

  objects(): { cluster: PolicyObject[]; namespaced: PolicyObject[] } {
    return {
      cluster: this.informers.ClusterRollbackPolicy.list().map((o) => toPolicyObject('ClusterRollbackPolicy', o)),
      namespaced: this.informers.RollbackPolicy.list().map((o) => toPolicyObject('RollbackPolicy', o)),
    };
  }

  resolution(): Resolution {
    if (this.cached === undefined) {
      const { cluster, namespaced } = this.objects();
      this.cached = resolvePolicyObjects(cluster, namespaced);
      this.report(this.cached);
    }
    return this.cached;
  }

  policyFor(namespace: string): Policy {
    const policy = effectiveFor(this.resolution(), namespace).policy;
    return this.synced() ? policy : capMode(policy);
  }

  describe(): string {
    const rejected = [...this.resolution().statuses.values()].filter((s) => !s.status.accepted).length;
    const sync = this.synced() ? '' : '; not synced: every mode is at most suggest (F1)';
    return `policy CRDs (ClusterRollbackPolicy default, RollbackPolicy per namespace)${rejected === 0 ? '' : `; ${String(rejected)} not accepted (kubectl get rbp,crbp -A)`}${sync}`;
  }

  leading(isLeader: boolean, surely: () => boolean): void {
    this.isLeading = isLeader;
    this.surely = surely;
    if (this.resync !== undefined) clearInterval(this.resync);
    this.resync = undefined;
    if (!isLeader) return;
    this.writeStatuses();
    this.resync = setInterval(() => {
      this.writeStatuses();
    }, this.opts.resyncMs ?? 30_000);
  }

  stop(): void {
    if (this.resync !== undefined) clearInterval(this.resync);
    for (const informer of Object.values(this.informers)) void informer.stop();
  }

  private changed(): void {
    this.cached = undefined;
    if (this.scheduled) return;
    this.scheduled = true;
    // One resolution for a burst of events (the first list delivers every object as an add).
    setImmediate(() => {
      this.scheduled = false;
      this.resolution();
      this.writeStatuses();
    });
  }

  private writeStatuses(): void {
    // Before both kinds have listed, a namespace policy could be judged against the wrong default.
    if (this.isLeading && this.synced()) this.writer.sync(this.resolution());
  }

  /** Every replica logs a policy that stops or starts being accepted, not only the leader. */
  private report(resolution: Resolution): void {
    for (const [key, { object, status }] of resolution.statuses) {
      if (this.reported.get(key) === status.message) continue;
      this.reported.set(key, status.message);
      if (status.accepted) this.opts.logger.info({ policy: refText(object), generation: object.generation }, 'policy in effect');
      else this.opts.logger.warn({ policy: refText(object), generation: object.generation, reason: status.reason, message: status.message }, 'policy not accepted');
    }
    for (const key of this.reported.keys()) if (!resolution.statuses.has(key)) this.reported.delete(key);
  }
}


import type { Logger } from 'pino';
import { ANNOTATIONS } from '../core/annotations.js';
import { overrideCommand } from '../core/blackout.js';
import { formatInstant, parseInstant } from '../core/duration.js';
import { templateHash } from '../core/template-hash.js';
import { reviewAccess, type Identity } from '../kube/auth-reviews.js';
import type { KubeRest } from '../kube/rest.js';
import type { ClusterState } from './cluster-state.js';
import type { DecisionRecord } from './decision-record.js';
import type { DecisionStore } from './decision-store.js';
import { performRollback } from './rollback.js';
import type { DecisionChange } from './sinks.js';

// What a person's Apply or Dismiss does, whichever way they pressed it (page, chat, CLI): check
// the decision still stands, ask the apiserver whether this person may patch the Deployment, then
// roll back impersonating them, so the audit log and rolled-back-by name the human, never
// rollguard. One decision, at most one rollback (F4): a second Apply is told who applied it when.

export type Channel = 'web' | 'slack' | 'cli';

export type ActionResult =
  | { ok: true; message: string; record: DecisionRecord }
  | { ok: false; status: 403 | 404 | 409 | 422 | 502; message: string };

export interface DecisionActionsDeps {
  store: DecisionStore;
  state: ClusterState;
  /** The agent's own credentials: SubjectAccessReview, and the impersonated patch. */
  rest: KubeRest;
  logger: Logger;
  clock: () => number;
  publish: (record: DecisionRecord, change: DecisionChange) => void;
  /** How long an open decision stays actionable, per namespace (policy `notifications.decisionTtl`). */
  ttlFor: (namespace: string) => number;
  blackoutFor: (namespace: string) => number;
}

export const DEFAULT_DECISION_TTL_MS = 60 * 60_000;

const FINAL: Partial<Record<DecisionRecord['state'], string>> = {
  'rolled-back': 'already rolled back by rollguard',
  applied: 'already applied',
  dismissed: 'dismissed',
  expired: 'expired',
  superseded: 'superseded',
  closed: 'closed',
};

export class DecisionActions {
  private readonly busy = new Set<string>();

  constructor(private readonly deps: DecisionActionsDeps) {}

  /** The reason a decision can no longer be acted on, or undefined when it can. Marks expiry. */
  private stale(record: DecisionRecord, now: number): string | undefined {
    const final = FINAL[record.state];
    if (final !== undefined) return `this decision is ${final}${record.stateReason === undefined ? '' : `: ${record.stateReason}`}`;
    const ttl = this.deps.ttlFor(record.namespace);
    if (now - record.firstDecidedAt > ttl) {
      const reason = `expired at ${formatInstant(record.firstDecidedAt + ttl)} (decisions stay actionable for ${Math.round(ttl / 60_000)} min)`;
      this.deps.store.setState(record.id, 'expired', reason);
      this.deps.publish(record, 'expired');
      return `this decision ${reason}`;
    }
    const current = this.deps.state.deployment(record.namespace, record.deployment);
    if (current === undefined) return `deployment ${record.namespace}/${record.deployment} no longer exists`;
    if (templateHash(current.spec?.template) !== record.templateHash) {
      const reason = 'superseded: the Deployment has been deployed or rolled back since this decision';
      this.deps.store.setState(record.id, 'superseded', reason);
      this.deps.publish(record, 'superseded');
      return reason;
    }
    const until = parseInstant(current.metadata?.annotations?.[ANNOTATIONS.blackoutUntil.key]);
    if (until !== undefined && until > now) {
      return `inside the post-rollback blackout until ${formatInstant(until)} (R8); a human overrides it with: ${overrideCommand(record.namespace, record.deployment)}`;
    }
    return undefined;
  }

  async apply(id: string, who: Identity, via: Channel): Promise<ActionResult> {
    const record = this.deps.store.get(id);
    if (record === undefined) return { ok: false, status: 404, message: `no decision ${id}` };
    if (this.busy.has(id)) return { ok: false, status: 409, message: `an Apply of decision ${id} is in progress` };
    this.busy.add(id);
    try {
      return await this.applyLocked(record, who, via);
    } finally {
      this.busy.delete(id);
    }
  }

  private async applyLocked(record: DecisionRecord, who: Identity, via: Channel): Promise<ActionResult> {
    const now = this.deps.clock();
    const stale = this.stale(record, now);
    if (stale !== undefined) return { ok: false, status: 409, message: stale };
    const to = record.toRevision;
    if (typeof to !== 'number') return { ok: false, status: 422, message: 'there is no previous revision to roll back to' };
    const access = await reviewAccess(this.deps.rest, who, { namespace: record.namespace, verb: 'patch', group: 'apps', resource: 'deployments', name: record.deployment });
    if (!access.allowed) {
      this.deps.logger.info({ decision: record.id, user: who.user, via }, 'apply refused: not allowed');
      return { ok: false, status: 403, message: access.reason };
    }
    const current = this.deps.state.deployment(record.namespace, record.deployment);
    if (current === undefined) return { ok: false, status: 409, message: `deployment ${record.namespace}/${record.deployment} no longer exists` };
    const outcome = await performRollback({
      rest: this.deps.rest,
      deployment: current,
      replicaSets: await this.deps.state.replicaSetsForRollback(current, to, this.deps.logger),
      decisionId: record.id,
      toRevision: to,
      by: who.user,
      reason: `applied by ${who.user} via ${via}: ${record.decision.summary}`,
      blackoutMs: this.deps.blackoutFor(record.namespace),
      now,
      impersonate: { user: who.user, groups: who.groups },
    });
    this.deps.logger.info({ event: 'apply', decision: record.id, namespace: record.namespace, deployment: record.deployment, user: who.user, via, result: outcome.result }, 'apply');
    if (outcome.result !== 'rolled-back') {
      const status = outcome.result === 'failed' ? 502 : outcome.result === 'denied' && /forbidden/i.test(outcome.message) ? 403 : 409;
      return { ok: false, status, message: outcome.message };
    }
    const reason = `applied by ${who.user} at ${formatInstant(now)} via ${via}: rolled back from revision ${outcome.fromRevision ?? 'unknown'} to ${outcome.toRevision}${outcome.partial ? ' (from a partially rolled-out state)' : ''}`;
    const updated = this.deps.store.setState(record.id, 'applied', reason) ?? record;
    this.deps.publish(updated, 'applied');
    return { ok: true, message: reason, record: updated };
  }

  async dismiss(id: string, who: Identity, via: Channel): Promise<ActionResult> {
    const record = this.deps.store.get(id);
    if (record === undefined) return { ok: false, status: 404, message: `no decision ${id}` };
    const stale = this.stale(record, this.deps.clock());
    if (stale !== undefined) return { ok: false, status: 409, message: stale };
    // Dismissing is a decision about the Deployment: only someone who could have applied it may.
    const access = await reviewAccess(this.deps.rest, who, { namespace: record.namespace, verb: 'patch', group: 'apps', resource: 'deployments', name: record.deployment });
    if (!access.allowed) return { ok: false, status: 403, message: access.reason };
    const reason = `dismissed by ${who.user} at ${formatInstant(this.deps.clock())} via ${via}`;
    const updated = this.deps.store.setState(record.id, 'dismissed', reason) ?? record;
    this.deps.publish(updated, 'dismissed');
    return { ok: true, message: reason, record: updated };
  }
}

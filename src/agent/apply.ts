import type { Logger } from 'pino';
import { ANNOTATIONS } from '../core/annotations.js';
import { overrideCommand } from '../core/blackout.js';
import { formatInstant, parseInstant } from '../core/duration.js';
import type { Deployment } from '../core/kube.js';
import { templateHash } from '../core/template-hash.js';
import { reviewAccess, type Identity } from '../kube/auth-reviews.js';
import { isStatus, paths, type KubeRest } from '../kube/rest.js';
import type { ClusterState } from './cluster-state.js';
import type { DecisionActor, DecisionRecord, DecisionState } from './decision-record.js';
import type { DecisionStore } from './decision-store.js';
import { performRollback, type RollbackOutcome } from './rollback.js';
import { AGENT_BY, rollbackOf } from './rollback-attribution.js';

// What a person's Apply or Dismiss does, whichever way they pressed it (page, chat, CLI): check
// the decision still stands, ask the apiserver whether this person may patch the Deployment, then
// roll back impersonating them, so the audit log and rolled-back-by name the human, never
// rollguard. One decision, at most one rollback (F4): a second Apply is told who applied it when.

export type Channel = 'web' | 'slack' | 'cli';

export type ActionResult =
  | { ok: true; message: string; record: DecisionRecord }
  | { ok: false; status: 403 | 404 | 409 | 422 | 502; message: string };

export interface DecisionActionsDeps {
  store: Pick<DecisionStore, 'get' | 'transition'>;
  state: ClusterState;
  /** The agent's own credentials: SubjectAccessReview, and the impersonated patch. */
  rest: KubeRest;
  logger: Logger;
  clock: () => number;
  /** A transition was written: the Lease holder publishes it (a standby leaves it to the leader). */
  publish: (record: DecisionRecord) => void;
  /** How long an open decision stays actionable, per namespace (policy `notifications.decisionTtl`). */
  ttlFor: (namespace: string) => number;
  blackoutFor: (namespace: string) => number;
  /** How long a losing Apply waits for the winner's record before answering (default 3 s). */
  settleMs?: number;
}

export const DEFAULT_DECISION_TTL_MS = 60 * 60_000;

const FINAL: Partial<Record<DecisionRecord['state'], string>> = {
  'rolled-back': 'already rolled back by rollguard',
  applied: 'already applied',
  dismissed: 'dismissed',
  expired: 'expired',
  superseded: 'superseded',
  closed: 'closed',
  'rollback-failed': 'not rolled back (the rollback failed)',
};

const AGENT = (at: number) => ({ by: AGENT_BY, at, via: 'agent' as const });

/** Why a decision no longer open cannot be acted on, in the words every channel uses. */
export function finalMessage(record: DecisionRecord): string | undefined {
  const final = FINAL[record.state];
  return final === undefined ? undefined : `this decision is ${final}${record.stateReason === undefined ? '' : `: ${record.stateReason}`}`;
}

export class DecisionActions {
  private readonly busy = new Set<string>();

  constructor(private readonly deps: DecisionActionsDeps) {}

  /** Writes a transition of an open decision and has it published; answers with the stored outcome (maybe another's). */
  private async settle(record: DecisionRecord, state: DecisionState, reason: string, actor: DecisionActor): Promise<DecisionRecord> {
    const t = await this.deps.store.transition(record.id, state, reason, actor);
    const stored = t.record ?? record;
    this.deps.publish(stored);
    return stored;
  }

  /** The reason a decision can no longer be acted on, or undefined when it can. Records expiry and the Deployment's own rollback. */
  private async stale(record: DecisionRecord, now: number): Promise<string | undefined> {
    const final = finalMessage(record);
    if (final !== undefined) return final;
    const ttl = this.deps.ttlFor(record.namespace);
    if (now - record.firstDecidedAt > ttl) {
      const reason = `expired at ${formatInstant(record.firstDecidedAt + ttl)} (decisions stay actionable for ${Math.round(ttl / 60_000)} min)`;
      return finalMessage(await this.settle(record, 'expired', reason, AGENT(now)));
    }
    const current = this.deps.state.deployment(record.namespace, record.deployment);
    if (current === undefined) return `deployment ${record.namespace}/${record.deployment} no longer exists`;
    if (templateHash(current.spec?.template) !== record.templateHash) {
      const done = rollbackOf(record, current);
      if (done !== undefined) return finalMessage(await this.settle(record, done.state, `${done.state === 'applied' ? 'applied' : 'rolled back'} by ${done.by} at ${formatInstant(done.at)}`, { by: done.by, at: done.at, via: 'agent' }));
      const reason = 'superseded: the Deployment has been deployed or rolled back since this decision';
      return finalMessage(await this.settle(record, 'superseded', reason, AGENT(now)));
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

  /**
   * After a rollback that did not happen because the Deployment changed under it: another replica
   * (or person) may have applied this decision a moment ago. Waits briefly for its record, to tell
   * this person who won instead of a bare conflict.
   */
  private async winner(id: string, waitMs: number): Promise<DecisionRecord | undefined> {
    const until = this.deps.clock() + waitMs;
    for (;;) {
      const r = this.deps.store.get(id);
      if (r !== undefined && r.state !== 'open') return r;
      if (r !== undefined) {
        const done = rollbackOf(r, this.deps.state.deployment(r.namespace, r.deployment));
        if (done !== undefined) return { ...r, state: done.state, stateReason: `applied by ${done.by} at ${formatInstant(done.at)}` };
      }
      if (this.deps.clock() >= until) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The impersonated rollback, on the Deployment as the apiserver has it now (not a cache a moment old). */
  private async rollBack(record: DecisionRecord, to: number, who: Identity, via: Channel, now: number): Promise<RollbackOutcome> {
    let current: Deployment;
    try {
      current = await this.deps.rest.get<Deployment>(paths.deployment(record.namespace, record.deployment));
    } catch (err) {
      if (isStatus(err, 404)) return { result: 'refused', message: `deployment ${record.namespace}/${record.deployment} no longer exists` };
      return { result: 'failed', message: err instanceof Error ? err.message : String(err) };
    }
    if (templateHash(current.spec?.template) !== record.templateHash) return { result: 'stale', message: 'superseded: the Deployment has been deployed or rolled back since this decision' };
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
    return outcome;
  }

  private async applyLocked(record: DecisionRecord, who: Identity, via: Channel): Promise<ActionResult> {
    const now = this.deps.clock();
    const stale = await this.stale(record, now);
    if (stale !== undefined) return { ok: false, status: 409, message: stale };
    const to = record.toRevision;
    if (typeof to !== 'number') return { ok: false, status: 422, message: 'there is no previous revision to roll back to' };
    const access = await reviewAccess(this.deps.rest, who, { namespace: record.namespace, verb: 'patch', group: 'apps', resource: 'deployments', name: record.deployment });
    if (!access.allowed) {
      this.deps.logger.info({ decision: record.id, user: who.user, via }, 'apply refused: not allowed');
      return { ok: false, status: 403, message: access.reason };
    }
    let outcome = await this.rollBack(record, to, who, via, now);
    // The Deployment changed under the patch: another replica's Apply won (say who), or only its
    // metadata moved (the agent's own annotations): then once more on the Deployment as it is now.
    for (let attempt = 1; outcome.result !== 'rolled-back'; attempt++) {
      if (outcome.result === 'stale' || outcome.result === 'already-done') {
        const won = await this.winner(record.id, attempt === 1 ? 0 : this.deps.settleMs ?? 3000);
        const message = won === undefined ? undefined : finalMessage(won);
        if (message !== undefined) return { ok: false, status: 409, message };
        if (outcome.result === 'stale' && attempt === 1) {
          outcome = await this.rollBack(record, to, who, via, now);
          continue;
        }
      }
      const status = outcome.result === 'failed' ? 502 : outcome.result === 'denied' && /forbidden/i.test(outcome.message) ? 403 : 409;
      return { ok: false, status, message: outcome.message };
    }
    const reason = `applied by ${who.user} at ${formatInstant(now)} via ${via}: rolled back from revision ${outcome.fromRevision ?? 'unknown'} to ${outcome.toRevision}${outcome.partial ? ' (from a partially rolled-out state)' : ''}`;
    const updated = await this.settle(record, 'applied', reason, { by: who.user, at: now, via });
    return { ok: true, message: reason, record: updated };
  }

  async dismiss(id: string, who: Identity, via: Channel): Promise<ActionResult> {
    const record = this.deps.store.get(id);
    if (record === undefined) return { ok: false, status: 404, message: `no decision ${id}` };
    const now = this.deps.clock();
    const stale = await this.stale(record, now);
    if (stale !== undefined) return { ok: false, status: 409, message: stale };
    // Dismissing is a decision about the Deployment: only someone who could have applied it may.
    const access = await reviewAccess(this.deps.rest, who, { namespace: record.namespace, verb: 'patch', group: 'apps', resource: 'deployments', name: record.deployment });
    if (!access.allowed) return { ok: false, status: 403, message: access.reason };
    const reason = `dismissed by ${who.user} at ${formatInstant(now)} via ${via}`;
    const updated = await this.settle(record, 'dismissed', reason, { by: who.user, at: now, via });
    // Someone else decided it in between (another replica, a second click): say what stands.
    if (updated.state !== 'dismissed' || updated.actor?.by !== who.user) return { ok: false, status: 409, message: finalMessage(updated) ?? `decision ${id} changed meanwhile` };
    return { ok: true, message: reason, record: updated };
  }
}

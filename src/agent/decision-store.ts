import type { Decision } from '../core/decision-types.js';
import type { DecisionRecord, DecisionState } from './decision-record.js';

// The agent's open and recent decisions, for /decisions and the sinks. One record per decision id;
// a newer decision for the same Deployment supersedes the open one before it.

const MAX_CLOSED = 500;

export type StoreChange = 'opened' | 'changed' | 'same';

export interface DecisionFacts {
  id: string;
  namespace: string;
  deployment: string;
  uid: string;
  templateHash: string;
  onset: number | undefined;
  toRevision: number | null | undefined;
  deployStart: number | undefined;
  deployCompleteAt: number | undefined;
  decision: Decision;
  at: number;
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class DecisionStore {
  private readonly byId = new Map<string, DecisionRecord>();
  private readonly latest = new Map<string, string>();

  record(facts: DecisionFacts): { record: DecisionRecord; change: StoreChange } {
    const k = key(facts.namespace, facts.deployment);
    const previousId = this.latest.get(k);
    if (previousId !== undefined && previousId !== facts.id) this.close(previousId, 'superseded', `superseded by decision ${facts.id}`);
    this.latest.set(k, facts.id);
    const existing = this.byId.get(facts.id);
    if (existing === undefined) {
      const record: DecisionRecord = { ...facts, state: 'open', stateReason: undefined, firstDecidedAt: facts.at, lastEvaluatedAt: facts.at };
      this.byId.set(facts.id, record);
      this.prune();
      return { record, change: 'opened' };
    }
    const changed = existing.decision.verdict !== facts.decision.verdict || existing.decision.summary !== facts.decision.summary;
    existing.decision = facts.decision;
    existing.toRevision = facts.toRevision;
    existing.deployCompleteAt = facts.deployCompleteAt;
    existing.lastEvaluatedAt = facts.at;
    return { record: existing, change: changed ? 'changed' : 'same' };
  }

  setState(id: string, state: DecisionState, reason: string): DecisionRecord | undefined {
    const r = this.byId.get(id);
    if (r === undefined) return undefined;
    r.state = state;
    r.stateReason = reason;
    return r;
  }

  /** The Deployment no longer has a deploy in its span (or was deleted): its open decision closes. */
  closeFor(namespace: string, name: string, reason: string): void {
    const id = this.latest.get(key(namespace, name));
    if (id !== undefined) this.close(id, 'closed', reason);
    this.latest.delete(key(namespace, name));
  }

  private close(id: string, state: DecisionState, reason: string): void {
    const r = this.byId.get(id);
    if (r !== undefined && r.state === 'open') {
      r.state = state;
      r.stateReason = reason;
    }
  }

  get(id: string): DecisionRecord | undefined {
    return this.byId.get(id);
  }

  /** Newest first. */
  list(filter: { namespace?: string | undefined; openOnly?: boolean } = {}): DecisionRecord[] {
    return [...this.byId.values()]
      .filter((r) => (filter.namespace === undefined || r.namespace === filter.namespace) && (filter.openOnly !== true || r.state === 'open'))
      .sort((a, b) => b.lastEvaluatedAt - a.lastEvaluatedAt);
  }

  private prune(): void {
    const closed = [...this.byId.values()].filter((r) => r.state !== 'open').sort((a, b) => a.lastEvaluatedAt - b.lastEvaluatedAt);
    for (const r of closed.slice(0, Math.max(0, closed.length - MAX_CLOSED))) this.byId.delete(r.id);
  }
}

import type { Decision } from '../core/decision-types.js';
import { isStatus } from '../kube/rest.js';
import { fromObject, objectChanged, toObject, type RollbackDecisionObject } from './decision-object.js';
import type { DecisionActor, DecisionRecord, DecisionState } from './decision-record.js';

// The decisions, kept in the cluster as RollbackDecision objects in rollguard's own namespace and
// read from a watch of them (decision-store-kube.ts), so every replica sees the same decisions and
// a restart loses none. Every write is conditional on the object's resourceVersion: a conflict
// re-reads the object and decides again on what is there now (409 → re-read, never overwrite).
// Nothing is written when nothing would change. A newer decision for the same Deployment
// supersedes the open one before it; closed decisions are pruned by age and count.

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

/** Where the objects are: the apiserver, or a map in the unit tests. Errors are KubeApiErrors (409 on a conflict). */
export interface DecisionBackend {
  get(name: string): Promise<RollbackDecisionObject | undefined>;
  create(o: RollbackDecisionObject): Promise<RollbackDecisionObject>;
  /** Conditional on o.metadata.resourceVersion. */
  replace(o: RollbackDecisionObject): Promise<RollbackDecisionObject>;
  remove(name: string, resourceVersion: string | undefined): Promise<void>;
}

/**
 * Who a write is for: the leader's own work (its evaluations and what it did) is written only while
 * this replica surely holds the Lease (`leaderBackend`, fenced in the agent, F4); a person's action
 * may be taken on any replica.
 */
export type Writer = 'leader' | 'anyone';

export interface DecisionStoreOptions {
  backend: DecisionBackend;
  /** The backend for the leader's writes (default: `backend`). */
  leaderBackend?: DecisionBackend;
  /** rollguard's own namespace, where the objects live. */
  namespace: string;
  clock: () => number;
  /** Closed decisions older than this are deleted (default 7 days). */
  retentionMs?: number;
  /** At most this many closed decisions are kept (default 500), the oldest deleted first. */
  maxClosed?: number;
}

export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60_000;
const DEFAULT_MAX_CLOSED = 500;
const MAX_ATTEMPTS = 5;

interface Entry {
  record: DecisionRecord;
  object: RollbackDecisionObject;
}

/** Compares resourceVersions as etcd writes them (increasing integers); anything else counts as newer. */
function newer(a: RollbackDecisionObject, b: RollbackDecisionObject | undefined): boolean {
  const x = Number(a.metadata.resourceVersion);
  const y = Number(b?.metadata.resourceVersion);
  return b === undefined || !Number.isFinite(x) || !Number.isFinite(y) || x >= y;
}

/** What a re-decision changes worth a write: the verdict and what a person reads or runs. */
function decisionMoved(a: DecisionRecord, f: DecisionFacts): boolean {
  const d = a.decision;
  return d.verdict !== f.decision.verdict || d.summary !== f.decision.summary || d.command !== f.decision.command || Math.round(d.confidence * 100) !== Math.round(f.decision.confidence * 100) || a.deployCompleteAt !== f.deployCompleteAt || (a.toRevision ?? null) !== (f.toRevision ?? null);
}

export class DecisionStore {
  private readonly byId = new Map<string, Entry>();
  private readonly listeners: ((record: DecisionRecord, event: 'update' | 'delete') => void)[] = [];

  constructor(private readonly opts: DecisionStoreOptions) {}

  /** A watch event or a write's answer: the cache follows the newest resourceVersion. */
  observe(event: 'add' | 'update' | 'delete', object: RollbackDecisionObject): void {
    const id = object.metadata.name;
    if (event === 'delete') {
      const gone = this.byId.get(id);
      this.byId.delete(id);
      if (gone !== undefined) for (const l of this.listeners) l(gone.record, 'delete');
      return;
    }
    const current = this.byId.get(id);
    if (!newer(object, current?.object)) return;
    const record = fromObject(object);
    if (record === undefined) return;
    const same = current !== undefined && current.object.metadata.resourceVersion === object.metadata.resourceVersion;
    this.byId.set(id, { record, object });
    if (!same) for (const l of this.listeners) l(record, 'update');
  }

  /** Called with every decision that changed (whoever wrote it), and every one deleted. */
  onChange(listener: (record: DecisionRecord, event: 'update' | 'delete') => void): void {
    this.listeners.push(listener);
  }

  get(id: string): DecisionRecord | undefined {
    const r = this.byId.get(id)?.record;
    return r === undefined ? undefined : structuredClone(r);
  }

  /** Newest first. */
  list(filter: { namespace?: string | undefined; openOnly?: boolean } = {}): DecisionRecord[] {
    return [...this.byId.values()]
      .map((e) => e.record)
      .filter((r) => (filter.namespace === undefined || r.namespace === filter.namespace) && (filter.openOnly !== true || r.state === 'open'))
      .sort((a, b) => b.firstDecidedAt - a.firstDecidedAt || b.lastEvaluatedAt - a.lastEvaluatedAt)
      .map((r) => structuredClone(r));
  }

  private writerBackend(writer: Writer): DecisionBackend {
    return writer === 'leader' ? (this.opts.leaderBackend ?? this.opts.backend) : this.opts.backend;
  }

  /** The object as the apiserver has it now, into the cache. */
  private async reread(id: string): Promise<Entry | undefined> {
    const fresh = await this.opts.backend.get(id);
    if (fresh === undefined) {
      this.observe('delete', { metadata: { name: id } } as RollbackDecisionObject);
      return undefined;
    }
    this.observe('update', fresh);
    return this.byId.get(id);
  }

  /**
   * The one way a decision changes: `change` gets the decision as stored and returns what it should
   * be (undefined: leave it). Conditional on the resourceVersion read; a conflict re-reads and asks
   * `change` again. Resolves to the decision as stored afterwards (undefined when there is none).
   */
  async update(id: string, change: (current: DecisionRecord) => DecisionRecord | undefined, writer: Writer = 'anyone'): Promise<DecisionRecord | undefined> {
    let entry = this.byId.get(id) ?? (await this.reread(id));
    for (let attempt = 1; entry !== undefined; attempt++) {
      const next = change(structuredClone(entry.record));
      if (next === undefined) return structuredClone(entry.record);
      const object = toObject(next, this.opts.namespace);
      if (!objectChanged(entry.object, object)) return structuredClone(entry.record);
      object.metadata.resourceVersion = entry.object.metadata.resourceVersion;
      try {
        const written = await this.writerBackend(writer).replace(object);
        this.observe('update', written);
        return fromObject(written);
      } catch (err) {
        if (isStatus(err, 404)) return (await this.reread(id))?.record;
        if (!isStatus(err, 409) || attempt >= MAX_ATTEMPTS) throw err;
        entry = await this.reread(id);
      }
    }
    return undefined;
  }

  /**
   * The leader's evaluation: a new decision is created (another replica having created it first
   * is the same decision: it is read, F4); a known one is rewritten only when what a person sees
   * of it moved. An older open decision for the same Deployment is superseded.
   */
  async record(facts: DecisionFacts): Promise<{ record: DecisionRecord; change: StoreChange }> {
    let out: { record: DecisionRecord; change: StoreChange } | undefined;
    if (this.byId.get(facts.id) === undefined) {
      const fresh: DecisionRecord = { ...facts, state: 'open', stateReason: undefined, firstDecidedAt: facts.at, lastEvaluatedAt: facts.at };
      delete (fresh as Partial<DecisionFacts>).at;
      try {
        const created = await this.writerBackend('leader').create(toObject(fresh, this.opts.namespace));
        this.observe('update', created);
        out = { record: fromObject(created) ?? fresh, change: 'opened' };
      } catch (err) {
        if (!isStatus(err, 409)) throw err;
        await this.reread(facts.id);
      }
    }
    if (out === undefined) {
      const seen = { moved: false };
      const record = await this.update(
        facts.id,
        (r) => {
          seen.moved = decisionMoved(r, facts);
          if (!seen.moved) return undefined;
          return { ...r, decision: facts.decision, toRevision: facts.toRevision, deployCompleteAt: facts.deployCompleteAt, lastEvaluatedAt: facts.at };
        },
        'leader',
      );
      if (record === undefined) throw new Error(`decision ${facts.id} vanished while it was being recorded`);
      out = { record, change: seen.moved ? 'changed' : 'same' };
    }
    for (const older of this.list({ namespace: facts.namespace, openOnly: true })) {
      if (older.deployment !== facts.deployment || older.id === facts.id || older.firstDecidedAt > out.record.firstDecidedAt) continue;
      await this.transition(older.id, 'superseded', `superseded by decision ${facts.id}`, { by: 'rollguard-agent', at: facts.at, via: 'agent' }, 'leader');
    }
    return out;
  }

  /**
   * Takes an open decision to `state`; a decision no longer open stays as it is. `won` says
   * whether this call made the change (false: someone else decided first, `record` says who).
   */
  async transition(id: string, state: DecisionState, reason: string, actor: DecisionActor, writer: Writer = 'anyone'): Promise<{ record: DecisionRecord | undefined; won: boolean }> {
    const seen = { won: false };
    const record = await this.update(
      id,
      (r) => {
        seen.won = r.state === 'open';
        return seen.won ? { ...r, state, stateReason: reason, actor, lastEvaluatedAt: actor.at } : undefined;
      },
      writer,
    );
    return { record, won: seen.won };
  }

  /** The Deployment no longer has a deploy in its span (or was deleted): its open decisions close. */
  async closeFor(namespace: string, name: string, reason: string): Promise<DecisionRecord[]> {
    const closed: DecisionRecord[] = [];
    for (const r of this.list({ namespace, openOnly: true })) {
      if (r.deployment !== name) continue;
      const t = await this.transition(r.id, 'closed', reason, { by: 'rollguard-agent', at: this.opts.clock(), via: 'agent' }, 'leader');
      if (t.won && t.record !== undefined) closed.push(t.record);
    }
    return closed;
  }

  /** Deletes closed decisions past the retention, and the oldest beyond the count cap. Returns the ids deleted. */
  async prune(): Promise<string[]> {
    const now = this.opts.clock();
    const closed = [...this.byId.values()].filter((e) => e.record.state !== 'open').sort((a, b) => a.record.lastEvaluatedAt - b.record.lastEvaluatedAt);
    const excess = Math.max(0, closed.length - (this.opts.maxClosed ?? DEFAULT_MAX_CLOSED));
    const doomed = closed.filter((e, i) => i < excess || now - e.record.lastEvaluatedAt > (this.opts.retentionMs ?? DEFAULT_RETENTION_MS));
    const deleted: string[] = [];
    for (const e of doomed) {
      try {
        await this.writerBackend('leader').remove(e.record.id, e.object.metadata.resourceVersion);
      } catch (err) {
        // Changed since: the next round judges it again.
        if (isStatus(err, 409)) continue;
        if (!isStatus(err, 404)) throw err;
      }
      this.observe('delete', e.object);
      deleted.push(e.record.id);
    }
    return deleted;
  }
}

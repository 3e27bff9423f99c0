import { createHash } from 'node:crypto';
import type { DecisionRecord } from './decision-record.js';
import type { DecisionStore } from './decision-store.js';
import type { DecisionChange } from './sinks.js';

// Only the Lease holder publishes (Events, Slack, the webhook), so nothing is posted twice, and it
// publishes every transition whoever made it: a standby's Dismiss or Apply writes the object, the
// leader sees it in its watch, publishes the change once and records on the object that it did
// (`published`). A new leader starts from what the objects say was published: it neither repeats
// a change nor skips one. The record is written once every channel has the change, not when it is
// handed over: a leader killed while Slack is being posted to leaves it unpublished, and the next
// leader sends it (a message edited twice is harmless; one never sent is a decision nobody hears of).
// Nor is it written before what the channel sent is kept on the decision (`recorded`, the Slack
// message's ts): a next leader that found the change published but no message would post a second
// one. A replica that stops on purpose first lets the publishing under way finish (`idle`).

/** What has to have been published for this record as it is now. */
export function publishKey(r: DecisionRecord): string {
  if (r.state === 'open') {
    const said = createHash('sha256').update(`${r.decision.verdict}\n${r.decision.summary}`).digest('hex').slice(0, 12);
    return `open:${said}`;
  }
  return r.handoff === undefined ? r.state : `${r.state}:handoff-${String(r.handoff.published)}`;
}

/** The change to publish for a record, or undefined when there is none (already published, or nothing to say). */
export function changeToPublish(r: DecisionRecord): DecisionChange | undefined {
  const key = publishKey(r);
  if (r.published === key) return undefined;
  if (r.state === 'open') {
    // An automatic verdict is followed at once by the rollback: its outcome is what people hear of.
    if (r.decision.verdict !== 'suggest') return undefined;
    return r.published?.startsWith('open:') === true ? 'changed' : 'opened';
  }
  if (r.state === 'closed') return undefined;
  if (r.handoff !== undefined && r.published?.startsWith(r.state) === true) return 'handoff';
  return r.state;
}

export interface PublisherDeps {
  store: Pick<DecisionStore, 'update' | 'list'>;
  isLeader: () => boolean;
  /** Hands the change to every sink; resolves once each has delivered it or given up (never rejects). */
  publish: (record: DecisionRecord, change: DecisionChange) => Promise<void>;
  /** Resolves once what the sinks sent for the decision (the Slack message) is kept on it; rejects when it could not be. */
  recorded?: (id: string) => Promise<void>;
  onError: (id: string, err: unknown) => void;
}

export class DecisionPublisher {
  /** Per decision, the key being published now: a watch event during the write is not a second publish. */
  private readonly inFlight = new Map<string, string>();
  /** Every publishing under way, for a stop to wait on. */
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly deps: PublisherDeps) {}

  /** Publishes what this decision still needs published, if this replica leads. */
  reconcile(record: DecisionRecord): Promise<void> {
    if (!this.deps.isLeader()) return Promise.resolve();
    const run = this.publishOnce(record);
    this.running.add(run);
    const done = (): void => {
      this.running.delete(run);
    };
    void run.then(done, done);
    return run;
  }

  /** Resolves once no publishing is under way (those that start meanwhile included). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async publishOnce(record: DecisionRecord): Promise<void> {
    const key = publishKey(record);
    const change = changeToPublish(record);
    if (this.inFlight.get(record.id) === key) return;
    if (change === undefined) {
      // Nothing to say (an open automatic decision, a closed one): still marked, so a later state is told as itself.
      if (record.published !== key && record.state === 'closed') await this.mark(record.id, key);
      return;
    }
    this.inFlight.set(record.id, key);
    try {
      await this.deps.publish(record, change);
      await this.deps.recorded?.(record.id);
      await this.mark(record.id, key);
    } finally {
      if (this.inFlight.get(record.id) === key) this.inFlight.delete(record.id);
    }
  }

  /** Taking the Lease over: every decision whose last change was not published yet, side by side (one slow channel holds no other decision up). */
  async reconcileAll(): Promise<void> {
    await Promise.all(this.deps.store.list().map((r) => this.reconcile(r)));
  }

  /** Recorded only while the decision still is what was published: a newer change keeps its own turn. */
  private async mark(id: string, key: string): Promise<void> {
    try {
      await this.deps.store.update(id, (r) => (r.published === key || publishKey(r) !== key ? undefined : { ...r, published: key }), 'leader');
    } catch (err) {
      this.deps.onError(id, err);
    }
  }
}

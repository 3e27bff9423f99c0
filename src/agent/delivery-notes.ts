import type { DecisionStore } from './decision-store.js';
import type { Delivery } from './sinks.js';

// What a sink sent for a decision (the Slack message's channel and ts, a webhook event) is kept on
// its RollbackDecision, so a later leader edits that one message instead of posting another. A
// change counts as published only once this is written too (decision-publisher.ts waits for it):
// a leader stopped between Slack's answer and this write leaves the change unpublished, never
// marked published with the message forgotten (the next change would then post a second message).

export class DeliveryNotes {
  /** Per decision, the writes of its notes still running. */
  private readonly pending = new Map<string, Set<Promise<void>>>();
  /** Per decision, a note that could not be written, kept until the publisher asks for it. */
  private readonly failed = new Map<string, unknown>();

  constructor(private readonly store: Pick<DecisionStore, 'update'>) {}

  /** A sink sent something for a decision: written on it in the background, with the leader's credentials. */
  note(d: Delivery): void {
    const write = this.write(d).catch((err: unknown) => {
      this.failed.set(d.id, err);
    });
    const running = this.pending.get(d.id) ?? new Set<Promise<void>>();
    running.add(write);
    this.pending.set(d.id, running);
    void write.finally(() => {
      running.delete(write);
      if (running.size === 0 && this.pending.get(d.id) === running) this.pending.delete(d.id);
    });
  }

  /** Resolves once every note taken for the decision so far is written; rejects with the error of one that could not be. */
  async recorded(id: string): Promise<void> {
    for (let running = this.pending.get(id); running !== undefined; running = this.pending.get(id)) await Promise.all([...running]);
    if (!this.failed.has(id)) return;
    const err = this.failed.get(id);
    this.failed.delete(id);
    throw err;
  }

  private async write(d: Delivery): Promise<void> {
    await this.store.update(
      d.id,
      (r) => {
        const n = r.notifications ?? {};
        if ('slack' in d) return n.slack?.ts === d.slack.ts && n.slack.channel === d.slack.channel ? undefined : { ...r, notifications: { ...n, slack: { channel: d.slack.channel, ts: d.slack.ts } } };
        return { ...r, notifications: { ...n, webhook: [...(n.webhook ?? []), d.webhook] } };
      },
      'leader',
    );
  }
}

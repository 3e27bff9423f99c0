import { describe, expect, it } from 'vitest';
import type { RollbackDecisionObject } from '../../src/agent/decision-object.js';
import { DecisionPublisher, publishKey } from '../../src/agent/decision-publisher.js';
import { DecisionStore, type DecisionBackend } from '../../src/agent/decision-store.js';
import { DeliveryNotes } from '../../src/agent/delivery-notes.js';
import { NotLeadingError } from '../../src/agent/fenced-rest.js';
import type { DecisionChange } from '../../src/agent/sinks.js';
import { min } from '../support/builders.js';
import { blockedByConfig, recordOf } from '../support/decision-fixtures.js';
import { MemoryDecisions } from '../support/memory-decisions.js';

// F4 across a failover: a decision's change counts as published (recorded on its RollbackDecision,
// where the next leader reads it) only once every channel has it. A leader killed while Slack is
// being posted to must leave it to the next leader, not take it as said.

function setup() {
  const backend = new MemoryDecisions();
  const store = new DecisionStore({ backend, namespace: 'rollguard', clock: () => min(10), retentionMs: 60 * 60_000 });
  return { store };
}

async function opened(store: DecisionStore, id: string, deployment = blockedByConfig.deployment) {
  const r = recordOf(blockedByConfig, { id, deployment });
  const { record } = await store.record({ id, namespace: r.namespace, deployment: r.deployment, uid: r.uid, templateHash: r.templateHash, onset: r.onset, toRevision: r.toRevision, deployStart: r.deployStart, deployCompleteAt: r.deployCompleteAt, decision: r.decision, at: min(4) });
  return record;
}

/** A leader whose deliveries are recorded in `sent`; `hold` keeps each delivery in flight until released. */
function leader(store: DecisionStore, sent: DecisionChange[], hold = false) {
  const releases: (() => void)[] = [];
  const publisher = new DecisionPublisher({
    store,
    isLeader: () => true,
    publish: (_record, change) => {
      sent.push(change);
      return hold ? new Promise<void>((resolve) => releases.push(resolve)) : Promise.resolve();
    },
    onError: (_id, err) => {
      throw err;
    },
  });
  return { publisher, release: () => { for (const r of releases.splice(0)) r(); } };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('F4 a change is published once every channel has it, by whichever leader gets there', () => {
  it('F4 a leader killed while the decision is being delivered leaves it unpublished: the next leader sends it', async () => {
    const { store } = setup();
    const record = await opened(store, 'k1');
    const sent: DecisionChange[] = [];
    const dying = leader(store, sent, true);
    void dying.publisher.reconcile(record);
    await settled();
    expect(sent).toEqual(['opened']);
    // Slack has not answered yet: nothing on the decision says it was published.
    expect(store.get('k1')?.published).toBeUndefined();
    // The leader dies here (its delivery never completes); the next one reads the same objects.
    const next = leader(store, sent);
    await next.publisher.reconcileAll();
    expect(sent).toEqual(['opened', 'opened']);
    expect(store.get('k1')?.published).toBe(publishKey(record));
  });

  it('F4 once every channel has it, the change is recorded: the next leader sends nothing again', async () => {
    const { store } = setup();
    const record = await opened(store, 'k2');
    const sent: DecisionChange[] = [];
    const first = leader(store, sent, true);
    const done = first.publisher.reconcile(record);
    await settled();
    first.release();
    await done;
    expect(store.get('k2')?.published).toBe(publishKey(record));
    await leader(store, sent).publisher.reconcileAll();
    expect(sent).toEqual(['opened']);
  });

  it('F4 taking over, one decision whose channel hangs holds no other decision up', async () => {
    const { store } = setup();
    await opened(store, 'k3', 'web');
    await opened(store, 'k4', 'api');
    const sent: DecisionChange[] = [];
    const next = leader(store, sent, true);
    void next.publisher.reconcileAll();
    await settled();
    expect(sent).toEqual(['opened', 'opened']);
    next.release();
  });
});

/** The leader's writes of decisions, in order; `refuse` makes the next ones fail as a lapsed leader's, `hold` keeps the next one in flight. */
class LeaderWrites implements DecisionBackend {
  readonly written: string[] = [];
  refuse = 0;
  private held: { release: () => void } | undefined;
  holdNext = false;

  constructor(private readonly backend: MemoryDecisions) {}

  get(name: string) {
    return this.backend.get(name);
  }

  create(o: RollbackDecisionObject) {
    return this.backend.create(o);
  }

  async replace(o: RollbackDecisionObject) {
    const what = o.status?.published === undefined ? 'note' : 'mark';
    if (this.refuse > 0) {
      this.refuse--;
      this.written.push(`${what} refused`);
      throw new NotLeadingError(`PUT ${o.metadata.name}`);
    }
    if (this.holdNext) {
      this.holdNext = false;
      await new Promise<void>((resolve) => {
        this.held = { release: resolve };
      });
    }
    try {
      const out = await this.backend.replace(o);
      this.written.push(what);
      return out;
    } catch (err) {
      this.written.push(`${what} conflict`);
      throw err;
    }
  }

  remove(name: string, rv: string | undefined) {
    return this.backend.remove(name, rv);
  }

  release(): void {
    this.held?.release();
  }
}

/** A leader whose one channel posts a Slack message (ts 1.000001) and reports it, as SlackSink does. */
function slackLeader(store: DecisionStore, sent: DecisionChange[]) {
  const notes = new DeliveryNotes(store);
  const publisher = new DecisionPublisher({
    store,
    isLeader: () => true,
    publish: (record, change) => {
      sent.push(change);
      if (record.notifications?.slack === undefined) notes.note({ id: record.id, slack: { channel: 'C1', ts: '1.000001' } });
      return Promise.resolve();
    },
    recorded: (id) => notes.recorded(id),
    onError: (_id, err) => {
      throw err;
    },
  });
  return { publisher };
}

describe('F4 a change counts as published only once the message its channel sent is kept on the decision', () => {
  function setupWrites() {
    const backend = new MemoryDecisions();
    const writes = new LeaderWrites(backend);
    const store = new DecisionStore({ backend, leaderBackend: writes, namespace: 'rollguard', clock: () => min(10), retentionMs: 60 * 60_000 });
    return { store, writes };
  }

  it('F4 the Slack message posted but its ts not written (the Lease not surely held any more): not marked published, so no later leader takes the decision as told while nobody knows its message', async () => {
    const { store, writes } = setupWrites();
    const record = await opened(store, 'n1');
    const sent: DecisionChange[] = [];
    writes.refuse = 1;
    await expect(slackLeader(store, sent).publisher.reconcile(record)).rejects.toBeInstanceOf(NotLeadingError);
    expect(sent).toEqual(['opened']);
    expect(writes.written).toEqual(['note refused']);
    expect(store.get('n1')?.notifications?.slack).toBeUndefined();
    expect(store.get('n1')?.published).toBeUndefined();
  });

  it('F4 a ts still being written holds the mark back: both land, the ts first, without conflicting with each other', async () => {
    const { store, writes } = setupWrites();
    const record = await opened(store, 'n2');
    const sent: DecisionChange[] = [];
    writes.holdNext = true;
    const done = slackLeader(store, sent).publisher.reconcile(record);
    await settled();
    expect(writes.written).toEqual([]);
    writes.release();
    await done;
    expect(writes.written).toEqual(['note', 'mark']);
    expect(store.get('n2')?.notifications?.slack).toEqual({ channel: 'C1', ts: '1.000001' });
    expect(store.get('n2')?.published).toBe(publishKey(record));
  });

  it('F4 a stopping leader can wait for every publishing under way, one that starts meanwhile included', async () => {
    const { store } = setupWrites();
    const a = await opened(store, 'n3', 'web');
    const b = await opened(store, 'n4', 'api');
    const gates = new Map<string, () => void>();
    const publisher = new DecisionPublisher({
      store,
      isLeader: () => true,
      publish: (record) => new Promise<void>((resolve) => gates.set(record.id, resolve)),
      onError: (_id, err) => {
        throw err;
      },
    });
    void publisher.reconcile(a);
    let idle = false;
    const waiting = publisher.idle().then(() => {
      idle = true;
    });
    void publisher.reconcile(b);
    gates.get('n3')?.();
    await settled();
    expect(store.get('n3')?.published).toBe(publishKey(a));
    expect(idle).toBe(false);
    gates.get('n4')?.();
    await waiting;
    expect(store.get('n4')?.published).toBe(publishKey(b));
  });
});

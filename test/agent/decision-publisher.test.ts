import { describe, expect, it } from 'vitest';
import { DecisionPublisher, publishKey } from '../../src/agent/decision-publisher.js';
import { DecisionStore } from '../../src/agent/decision-store.js';
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

import { describe, expect, it } from 'vitest';
import { fromObject, MAX_OBJECT_BYTES, objectBytes, toObject } from '../../src/agent/decision-object.js';
import { DecisionStore, type DecisionFacts } from '../../src/agent/decision-store.js';
import { decisionCrd } from '../../src/agent/decision-crd.js';
import { blockedByConfig, oversized, recordOf, rolledBackWithHandoff } from '../support/decision-fixtures.js';
import { MemoryDecisions } from '../support/memory-decisions.js';
import { min } from '../support/builders.js';

// R10/F4 the decisions as RollbackDecision objects: every state change is one conditional write,
// nothing is written when nothing changed, a conflict re-reads instead of overwriting, closed
// decisions are pruned, and the object is bounded in size.

function setup(clock = { now: min(10) }) {
  const backend = new MemoryDecisions();
  const store = new DecisionStore({ backend, namespace: 'rollguard', clock: () => clock.now, retentionMs: 60 * 60_000, maxClosed: 3 });
  return { backend, store, clock };
}

function facts(id: string, overrides: Partial<DecisionFacts> = {}): DecisionFacts {
  const r = recordOf(blockedByConfig, { id });
  return { id, namespace: r.namespace, deployment: r.deployment, uid: r.uid, templateHash: r.templateHash, onset: r.onset, toRevision: r.toRevision, deployStart: r.deployStart, deployCompleteAt: r.deployCompleteAt, decision: r.decision, at: min(4), ...overrides };
}

const agent = { by: 'rollguard-agent', at: min(11), via: 'agent' as const };

describe('R10 decisions live in RollbackDecision objects', () => {
  it('a new decision is created once, open; deciding the same again writes nothing', async () => {
    const { backend, store } = setup();
    const first = await store.record(facts('a1'));
    expect(first.change).toBe('opened');
    expect(first.record.state).toBe('open');
    expect(backend.objects.get('a1')?.spec.deployment).toEqual({ namespace: first.record.namespace, name: first.record.deployment, uid: 'uid-1' });
    const writes = backend.writes;
    const again = await store.record(facts('a1', { at: min(5) }));
    expect(again.change).toBe('same');
    expect(backend.writes).toBe(writes);
    const moved = await store.record(facts('a1', { at: min(6), decision: { ...blockedByConfig, summary: 'something else now' } }));
    expect(moved.change).toBe('changed');
    expect(backend.writes).toBe(writes + 1);
    expect(store.get('a1')?.decision.summary).toBe('something else now');
  });

  it('F4 a decision another replica created first is read, not created twice', async () => {
    const { backend, store } = setup();
    const other = setup();
    await other.store.record(facts('b1'));
    const created = other.backend.objects.get('b1');
    if (created === undefined) throw new Error('not created');
    backend.objects.set('b1', structuredClone(created));
    const r = await store.record(facts('b1', { at: min(5) }));
    expect(r.change).toBe('same');
    expect(r.record.firstDecidedAt).toBe(min(4));
  });

  it('a newer decision for the same Deployment supersedes the open one, recorded on its object', async () => {
    const { backend, store } = setup();
    await store.record(facts('old'));
    await store.record(facts('new', { at: min(8), templateHash: 'sha256:bb' }));
    expect(store.get('old')?.state).toBe('superseded');
    expect(store.get('old')?.stateReason).toBe('superseded by decision new');
    expect(backend.objects.get('old')?.status?.state).toBe('superseded');
    expect(store.get('new')?.state).toBe('open');
  });

  it('F4 a transition is conditional: a conflict re-reads, and a decision someone else closed first stays theirs', async () => {
    const { backend, store } = setup();
    await store.record(facts('c1'));
    // Another replica dismissed it; this replica's cache has not seen that yet.
    await backend.tamper('c1', (o) => {
      o.status = { ...o.status, state: 'dismissed', reason: 'dismissed by bob', by: 'bob', at: '2026-03-02T10:09:00Z', via: 'web' };
    });
    const t = await store.transition('c1', 'applied', 'applied by alice', { by: 'alice', at: min(11), via: 'slack' });
    expect(t.won).toBe(false);
    expect(t.record?.state).toBe('dismissed');
    expect(t.record?.actor).toEqual({ by: 'bob', at: min(9), via: 'web' });
    expect(backend.objects.get('c1')?.status?.by).toBe('bob');
  });

  it('two transitions at once: exactly one wins', async () => {
    const { backend, store } = setup();
    await store.record(facts('d1'));
    const other = new DecisionStore({ backend, namespace: 'rollguard', clock: () => min(10) });
    await other.update('d1', () => undefined);
    const [a, b] = await Promise.all([store.transition('d1', 'applied', 'by alice', { by: 'alice', at: min(11), via: 'web' }), other.transition('d1', 'dismissed', 'by bob', { by: 'bob', at: min(11), via: 'web' })]);
    expect([a.won, b.won].filter(Boolean)).toHaveLength(1);
    expect(a.record?.state).toBe(b.record?.state);
  });

  it('closing a Deployment closes only its open decisions; a closed one is not reopened', async () => {
    const { store } = setup();
    await store.record(facts('e1'));
    await store.transition('e1', 'dismissed', 'no', agent);
    await store.record(facts('e2', { templateHash: 'sha256:cc', at: min(6) }));
    const closed = await store.closeFor(blockedByConfig.namespace, blockedByConfig.deployment, 'no persistent regression');
    expect(closed.map((r) => r.id)).toEqual(['e2']);
    expect(store.get('e1')?.state).toBe('dismissed');
    expect(store.get('e2')?.state).toBe('closed');
  });

  it('closed decisions are pruned by age and by count; open ones never', async () => {
    const clock = { now: min(10) };
    const { backend, store } = setup(clock);
    for (const [i, id] of ['p1', 'p2', 'p3', 'p4', 'p5'].entries()) {
      await store.record(facts(id, { templateHash: `sha256:${id}`, at: min(i) }));
      if (id !== 'p5') await store.transition(id, 'closed', 'gone', { ...agent, at: min(20 + i) });
    }
    expect(await store.prune()).toEqual(['p1']);
    clock.now = min(24 + 61);
    expect((await store.prune()).sort()).toEqual(['p2', 'p3', 'p4']);
    expect([...backend.objects.keys()]).toEqual(['p5']);
  });

  it('round-trips through the object: state, who, the Slack message, the handoff', () => {
    const r = { ...rolledBackWithHandoff(2), actor: agent, notifications: { slack: { channel: 'C1', ts: '1700000000.000100' }, webhook: ['opened'] }, published: 'rolled-back' };
    const back = fromObject(toObject(r, 'rollguard'));
    expect(back).toEqual(JSON.parse(JSON.stringify(r)));
  });

  it('is bounded: an oversized decision stays under the cap, clipped, with every condition kept', () => {
    const huge = recordOf(oversized(blockedByConfig, 40_000));
    const o = toObject(huge, 'rollguard');
    expect(objectBytes(o)).toBeLessThanOrEqual(MAX_OBJECT_BYTES);
    expect(Object.keys(o.spec.decision.conditions).sort()).toEqual(Object.keys(blockedByConfig.conditions).sort());
    expect(o.spec.decision.conditions.window.evidence.endsWith('…')).toBe(true);
    expect(objectBytes(toObject(recordOf(), 'rollguard'))).toBeLessThan(16 * 1024);
  });

  it('the CRD lists decisions with the columns a person needs', () => {
    const columns = ((decisionCrd().spec as { versions: { additionalPrinterColumns: { name: string }[] }[] }).versions[0]?.additionalPrinterColumns ?? []).map((c) => c.name);
    expect(columns).toEqual(['Namespace', 'Deployment', 'Verdict', 'State', 'By', 'Age']);
  });
});

describe('R10 the object as the apiserver gives it back', () => {
  it('with every map key sorted: the same decision, conditions in their order, and no write for it', async () => {
    const sortKeys = (v: unknown): unknown => (Array.isArray(v) ? v.map(sortKeys) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortKeys(x)])) : v);
    const { backend, store } = setup();
    await store.record(facts('s1'));
    await backend.tamper('s1', (o) => {
      Object.assign(o, sortKeys(o));
    });
    await store.update('s1', () => undefined);
    const writes = backend.writes;
    expect(Object.keys(store.get('s1')?.decision.conditions ?? {})).toEqual(Object.keys(blockedByConfig.conditions));
    expect((await store.record(facts('s1', { at: min(6) }))).change).toBe('same');
    await store.update('s1', (r) => ({ ...r }));
    expect(backend.writes).toBe(writes);
  });
});

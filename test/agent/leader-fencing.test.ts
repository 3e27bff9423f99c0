import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DecisionStore, type DecisionBackend, type DecisionFacts } from '../../src/agent/decision-store.js';
import { FencedRest, isNotLeading, NotLeadingError } from '../../src/agent/fenced-rest.js';
import { PolicyStatusWriter } from '../../src/agent/policy-status-writer.js';
import type { PolicyObject } from '../../src/core/policy-objects.js';
import { resolvePolicyObjects } from '../../src/core/policy-resolution.js';
import { blockedByConfig, recordOf } from '../support/decision-fixtures.js';
import { MemoryDecisions } from '../support/memory-decisions.js';
import { min } from '../support/builders.js';
import { KubeApiServer, testApiKubeConfig } from '../support/kube-api-server.js';
import { waitFor } from '../support/wait.js';

// F4: the leader's own writes are checked against the Lease right before each is sent, not only when
// the work that led to them began. A replica paused past its renew deadline (SIGSTOP, a long GC)
// resumes mid-evaluation while a standby already leads: what it was about to write is not written.
// A person's action (Apply, Dismiss) may be taken on any replica and is never fenced.

/** A write's outcome, answer or error. */
const sent = (rest: FencedRest): Promise<unknown> => rest.create('/api/v1/namespaces/shop/configmaps', { metadata: { name: 'b', namespace: 'shop' } }).catch((err: unknown) => err);

describe('F4 FencedRest: the leader-only client', () => {
  let server: KubeApiServer;
  beforeEach(async () => {
    server = await new KubeApiServer().start();
    server.create('configmaps', { metadata: { name: 'a', namespace: 'shop' }, data: { A: '1' } });
  });
  afterEach(async () => {
    await server.stop();
  });

  it('sends nothing that writes while the Lease is not surely held, and says why', async () => {
    let leads = false;
    const rest = new FencedRest(testApiKubeConfig(server), () => leads);
    const before = server.requests.length;
    const write = rest.patch('/api/v1/namespaces/shop/configmaps/a', 'merge', { metadata: { labels: { x: 'y' } } });
    await expect(write).rejects.toBeInstanceOf(NotLeadingError);
    await expect(write).rejects.toThrow(/not written \(PATCH .*configmaps\/a\): this replica no longer certainly holds the Lease/);
    await expect(rest.create('/api/v1/namespaces/shop/configmaps', { metadata: { name: 'b', namespace: 'shop' } })).rejects.toSatisfy(isNotLeading);
    await expect(rest.request('DELETE', '/api/v1/namespaces/shop/configmaps/a')).rejects.toSatisfy(isNotLeading);
    expect(server.requests.length).toBe(before);
    // Reads are never fenced.
    expect(await rest.get<{ data: Record<string, string> }>('/api/v1/namespaces/shop/configmaps/a')).toMatchObject({ data: { A: '1' } });
    leads = true;
    // The test API server answers reads only: what matters is that the write now reaches it.
    expect(isNotLeading(await sent(rest))).toBe(false);
    expect(server.requests.at(-1)?.method).toBe('POST');
  });

  it('asks at each write, not once: a Lease lost between two writes stops the second', async () => {
    const answers = [true, false];
    const rest = new FencedRest(testApiKubeConfig(server), () => answers.shift() ?? false);
    expect(isNotLeading(await sent(rest))).toBe(false);
    expect(isNotLeading(await sent(rest))).toBe(true);
    expect(server.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });
});

/** A backend that refuses, as FencedRest does for a replica that lost the Lease. */
function fenced(inner: DecisionBackend): DecisionBackend {
  const refuse = () => Promise.reject(new NotLeadingError('test'));
  return { get: (n) => inner.get(n), create: refuse, replace: refuse, remove: refuse };
}

function facts(id: string): DecisionFacts {
  const r = recordOf(blockedByConfig, { id });
  return { id, namespace: r.namespace, deployment: r.deployment, uid: r.uid, templateHash: r.templateHash, onset: r.onset, toRevision: r.toRevision, deployStart: r.deployStart, deployCompleteAt: r.deployCompleteAt, decision: r.decision, at: min(4) };
}

describe('F4 the decision store: the leader writes through the fenced backend, a person through the plain one', () => {
  function stores() {
    const backend = new MemoryDecisions();
    const leader = new DecisionStore({ backend, namespace: 'rollguard', clock: () => min(10) });
    const lapsed = new DecisionStore({ backend, leaderBackend: fenced(backend), namespace: 'rollguard', clock: () => min(10) });
    return { backend, leader, lapsed };
  }

  it("a lapsed leader's evaluation records nothing: no new decision, no re-decision, no close, no prune", async () => {
    const { backend, leader, lapsed } = stores();
    await expect(lapsed.record(facts('d1'))).rejects.toSatisfy(isNotLeading);
    expect(backend.objects.size).toBe(0);
    const made = await leader.record(facts('d2'));
    for (const o of backend.objects.values()) lapsed.observe('add', o);
    const writes = backend.writes;
    await expect(lapsed.record({ ...facts('d2'), decision: { ...blockedByConfig, summary: 'moved' } })).rejects.toSatisfy(isNotLeading);
    await expect(lapsed.closeFor(made.record.namespace, made.record.deployment, 'gone')).rejects.toSatisfy(isNotLeading);
    await expect(lapsed.update('d2', (r) => ({ ...r, published: 'x' }), 'leader')).rejects.toSatisfy(isNotLeading);
    expect(backend.writes).toBe(writes);
  });

  it("a person's Dismiss on the same replica is written (writer 'anyone')", async () => {
    const { backend, leader, lapsed } = stores();
    await leader.record(facts('d3'));
    for (const o of backend.objects.values()) lapsed.observe('add', o);
    const t = await lapsed.transition('d3', 'dismissed', 'not this one', { by: 'alice@example.com', at: min(11), via: 'web' });
    expect(t.won).toBe(true);
    expect(backend.objects.get('d3')?.status?.state).toBe('dismissed');
  });
});

describe('F4 the policy status writer: a lapsed leader writes no status', () => {
  let server: KubeApiServer;
  beforeEach(async () => {
    server = await new KubeApiServer().start();
  });
  afterEach(async () => {
    await server.stop();
  });

  it('sends no status while the Lease is not surely held, and logs it below warn; sends it once it is', async () => {
    let leads = false;
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as { level: number; msg: string }) });
    const writer = new PolicyStatusWriter({ rest: new FencedRest(testApiKubeConfig(server), () => leads), logger, clock: () => min(10) });
    const policy: PolicyObject = { kind: 'RollbackPolicy', namespace: 'shop', name: 'p', generation: 1, createdAt: min(0), spec: { mode: 'suggest' }, status: undefined };
    const resolution = resolvePolicyObjects([], [policy]);
    const patches = () => server.requests.filter((r) => r.method === 'PATCH' && r.url.endsWith('/rollbackpolicies/p/status'));

    writer.sync(resolution);
    await waitFor('the refused write to be logged', () => lines.some((l) => l.msg.includes('no longer surely leads')));
    expect(patches()).toHaveLength(0);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);

    leads = true;
    writer.sync(resolution);
    // The test API server has no policy CRDs and answers 404, which the writer leaves alone.
    await waitFor('the status write to be sent', () => patches().length === 1);
  });
});

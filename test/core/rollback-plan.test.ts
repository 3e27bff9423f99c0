import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import type { Deployment, ReplicaSet } from '../../src/core/kube.js';
import { ownedReplicaSets, planRollback, previousRevision, rolloutUndoAnnotations } from '../../src/core/rollback-plan.js';
import { templateHash } from '../../src/core/template-hash.js';
import { deployment } from '../support/builders.js';

const UID = 'd-uid-1';

function live(image: string, annotations: Record<string, string> = {}): Deployment {
  const d = deployment({ image, annotations: { 'deployment.kubernetes.io/revision': '3', ...annotations } });
  return { ...d, metadata: { ...d.metadata, uid: UID, resourceVersion: '812' } };
}

function rs(revision: number, image: string, annotations: Record<string, string> = {}, owner = UID): ReplicaSet {
  const template = deployment({ image }).spec?.template;
  return {
    metadata: {
      name: `checkout-${revision}`,
      namespace: 'shop',
      annotations: { 'deployment.kubernetes.io/revision': String(revision), ...annotations },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout', uid: owner, controller: true }],
    },
    spec: { template: { ...template, metadata: { labels: { ...template?.metadata?.labels, 'pod-template-hash': `h${revision}` } } } },
  };
}

const sets = [rs(1, 'shop/checkout:1.2'), rs(3, 'shop/checkout:1.4'), rs(2, 'shop/checkout:1.3'), rs(9, 'other:1', {}, 'someone-else')];

describe('R7 rollback plan equals kubectl rollout undo', () => {
  it('orders the Deployment’s own ReplicaSets by revision and ignores others', () => {
    expect(ownedReplicaSets(live('shop/checkout:1.4'), sets).map((o) => o.revision)).toEqual([3, 2, 1]);
  });

  it('restores the previous revision: the newest one below the current', () => {
    expect(previousRevision(live('shop/checkout:1.4'), ownedReplicaSets(live('x'), sets))).toBe(2);
    expect(previousRevision(live('x'), [])).toBeNull();
    const unknown = live('x');
    delete unknown.metadata?.annotations?.['deployment.kubernetes.io/revision'];
    expect(previousRevision(unknown, ownedReplicaSets(live('x'), sets))).toBeUndefined();
  });

  it('replaces the template without pod-template-hash, conditional on the resourceVersion', () => {
    const plan = planRollback({ deployment: live('shop/checkout:1.4'), replicaSets: sets, toRevision: 2, record: {} });
    if (!plan.ok) throw new Error(plan.message);
    expect(plan.ops[0]).toEqual({ op: 'test', path: '/metadata/resourceVersion', value: '812' });
    expect(plan.ops[1]?.path).toBe('/spec/template');
    expect(plan.template.metadata?.labels).toEqual({ app: 'checkout' });
    expect(plan.template.spec?.containers?.[0]?.image).toBe('shop/checkout:1.3');
    expect(plan.fromRevision).toBe(3);
    expect(plan.toRevision).toBe(2);
  });

  it('takes annotations from the ReplicaSet except the ones kubectl keeps, and rollguard keys from the Deployment', () => {
    const d = live('shop/checkout:1.4', {
      'kubectl.kubernetes.io/last-applied-configuration': '{"x":1}',
      'kubernetes.io/change-cause': 'deploy 1.4',
      team: 'payments',
      [ANNOTATIONS.templateHistory.key]: '[now]',
    });
    const target = rs(2, 'shop/checkout:1.3', {
      'kubernetes.io/change-cause': 'deploy 1.3',
      'deployment.kubernetes.io/desired-replicas': '6',
      [ANNOTATIONS.templateHistory.key]: '[old]',
    });
    expect(rolloutUndoAnnotations(d, target)).toEqual({
      'kubectl.kubernetes.io/last-applied-configuration': '{"x":1}',
      'deployment.kubernetes.io/revision': '3',
      'kubernetes.io/change-cause': 'deploy 1.3',
      [ANNOTATIONS.templateHistory.key]: '[now]',
    });
  });

  it('adds the record to the annotations it writes', () => {
    const plan = planRollback({ deployment: live('shop/checkout:1.4'), replicaSets: sets, toRevision: 2, record: { [ANNOTATIONS.decisionId.key]: 'abc' } });
    if (!plan.ok) throw new Error(plan.message);
    expect((plan.ops[2]?.value as Record<string, string>)[ANNOTATIONS.decisionId.key]).toBe('abc');
  });

  it.each([
    ['a paused Deployment', { ...live('shop/checkout:1.4'), spec: { ...live('x').spec, paused: true } }, 2, 'paused'],
    ['a revision with no ReplicaSet', live('shop/checkout:1.4'), 7, 'revision-not-found'],
    ['a revision whose template already runs', live('shop/checkout:1.3'), 2, 'already-there'],
  ] as const)('refuses %s, as kubectl does', (_label, d, to, reason) => {
    const plan = planRollback({ deployment: d, replicaSets: sets, toRevision: to, record: {} });
    expect(plan.ok ? 'ok' : plan.reason).toBe(reason);
  });

  it('refuses to write a rollback whose target template was not read (a ReplicaSet known as metadata only)', () => {
    const metadataOnly = sets.map((r) => ({ metadata: r.metadata }));
    const plan = planRollback({ deployment: live('shop/checkout:1.4'), replicaSets: metadataOnly, toRevision: 2, record: {} });
    expect(plan).toMatchObject({ ok: false, reason: 'template-unknown' });
  });

  it('notes a partial rollout', () => {
    const d = live('shop/checkout:1.4');
    const mid = { ...d, status: { observedGeneration: 4, replicas: 8, updatedReplicas: 3, availableReplicas: 5 } };
    const plan = planRollback({ deployment: mid, replicaSets: sets, toRevision: 2, record: {} });
    expect(plan.ok && plan.partial).toBe(true);
    const done = planRollback({ deployment: d, replicaSets: sets, toRevision: 2, record: {} });
    expect(done.ok && done.partial).toBe(false);
  });

  it('restores a template whose hash is the target revision’s', () => {
    const plan = planRollback({ deployment: live('shop/checkout:1.4'), replicaSets: sets, toRevision: 1, record: {} });
    if (!plan.ok) throw new Error(plan.message);
    expect(templateHash(plan.template)).toBe(templateHash(deployment({ image: 'shop/checkout:1.2' }).spec?.template));
  });
});

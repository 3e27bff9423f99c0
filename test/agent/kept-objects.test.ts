import { describe, expect, it } from 'vitest';
import { keptDeployment, keptReplicaSet, lacksLastApplied, LAST_APPLIED } from '../../src/agent/kept-objects.js';
import type { Deployment, ReplicaSet } from '../../src/core/kube.js';
import { ownedReplicaSets } from '../../src/core/rollback-plan.js';
import { stampedDeploy } from '../../src/core/stamped-deploy.js';

const wireDeployment = (annotations: Record<string, string>): Deployment =>
  JSON.parse(JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'checkout', namespace: 'shop', uid: 'd-uid', resourceVersion: '7', generation: 2, annotations, managedFields: [{ manager: 'kubectl' }] },
    spec: { replicas: 1, template: { metadata: { labels: { app: 'checkout' } }, spec: { containers: [{ name: 'app', image: 'shop/checkout:2' }] } } },
    status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
  })) as Deployment;

const wireReplicaSet = (revision: string, owner: string): ReplicaSet => ({
  apiVersion: 'meta.k8s.io/v1',
  kind: 'PartialObjectMetadata',
  metadata: {
    name: `checkout-${revision}`,
    namespace: 'shop',
    uid: `rs-${revision}`,
    resourceVersion: '9',
    generation: 1,
    creationTimestamp: '2026-12-06T10:00:00Z',
    labels: { app: 'checkout', 'pod-template-hash': 'abc' },
    annotations: { 'deployment.kubernetes.io/revision': revision, 'kubernetes.io/change-cause': 'deploy' },
    ownerReferences: [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'other' },
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout', uid: owner, controller: true },
    ],
    managedFields: [{ manager: 'kube-controller-manager' }],
  },
});

describe('F1 the agent keeps of a Deployment what a decision reads, and knows what it left out', () => {
  it("drops managedFields and kubectl's last-applied copy, keeps every other annotation, and marks the copy as lacking it", () => {
    const wire = wireDeployment({ [LAST_APPLIED]: '{"big":"manifest"}', 'rollguard.io/template-hash': 'h', 'deployment.kubernetes.io/revision': '2' });
    const kept = keptDeployment(wire);
    expect(kept.metadata).not.toHaveProperty('managedFields');
    expect(kept.metadata?.annotations).toEqual({ 'rollguard.io/template-hash': 'h', 'deployment.kubernetes.io/revision': '2' });
    expect(lacksLastApplied(kept)).toBe(true);
    expect(kept.spec).toBe(wire.spec);
    expect(kept.status).toBe(wire.status);
    expect(wire.metadata?.annotations?.[LAST_APPLIED]).toBe('{"big":"manifest"}');
  });

  it('marks nothing when there was nothing to leave out, so a rollback reads no more than before', () => {
    const kept = keptDeployment(wireDeployment({ 'deployment.kubernetes.io/revision': '2' }));
    expect(lacksLastApplied(kept)).toBe(false);
    expect(kept.metadata?.annotations).toEqual({ 'deployment.kubernetes.io/revision': '2' });
  });

  it('keeps a "__proto__" annotation as data', () => {
    const wire = JSON.parse(`{"metadata":{"name":"a","annotations":{"__proto__":{"polluted":true},"${LAST_APPLIED}":"x","k":"v"}}}`) as Deployment;
    const kept = keptDeployment(wire);
    expect(Object.getOwnPropertyNames(kept.metadata?.annotations)).toEqual(['__proto__', 'k']);
    expect((kept.metadata?.annotations as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('R7 a compact ReplicaSet record answers what the rollback and the view read', () => {
  it('keeps identity, creation, annotations and the controlling Deployment; drops labels, other owners and managedFields', () => {
    const kept = keptReplicaSet(wireReplicaSet('1', 'd-uid'));
    expect(kept.metadata).toEqual({
      name: 'checkout-1',
      namespace: 'shop',
      uid: 'rs-1',
      resourceVersion: '9',
      generation: 1,
      creationTimestamp: '2026-12-06T10:00:00Z',
      annotations: { 'deployment.kubernetes.io/revision': '1', 'kubernetes.io/change-cause': 'deploy' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout', uid: 'd-uid', controller: true }],
    });
  });

  it('gives the same owned revisions and the same view of the deploy as the ReplicaSets as listed', () => {
    const d = keptDeployment(wireDeployment({ 'deployment.kubernetes.io/revision': '2' }));
    const listed = [wireReplicaSet('1', 'd-uid'), wireReplicaSet('2', 'd-uid'), wireReplicaSet('3', 'someone-else')];
    const kept = listed.map(keptReplicaSet);
    const revisions = (rs: readonly ReplicaSet[]) => ownedReplicaSets(d, rs).map((o) => [o.revision, o.replicaSet.metadata?.name]);
    expect(revisions(kept)).toEqual(revisions(listed));
    const now = Date.parse('2026-12-06T11:00:00Z');
    const view = (rs: readonly ReplicaSet[]) => {
      const v = stampedDeploy(d, rs, now);
      return { ...v, owned: v.owned.map((o) => o.revision) };
    };
    expect(view(kept)).toEqual(view(listed));
  });
});

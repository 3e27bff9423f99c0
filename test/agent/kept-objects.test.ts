import { describe, expect, it } from 'vitest';
import { keptDeployment, keptJob, keptReplicaSet, lacksLastApplied, LAST_APPLIED, likeNeighbours, ownerName, shareOwnerAnnotations } from '../../src/agent/kept-objects.js';
import type { Deployment, Job, ReplicaSet } from '../../src/core/kube.js';
import { detectMigration } from '../../src/core/migrations.js';
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

  it("drops rollguard's stamps, which the controller copied from the Deployment, and keeps the keys people set and the ones a rollback copies", () => {
    const wire = wireReplicaSet('1', 'd-uid');
    const stamps = { 'rollguard.io/template-hash': 'sha256:abc', 'rollguard.io/template-history': '[{"hash":"sha256:abc"}]', 'rollguard.io/decision': '{"id":"x"}', 'rollguard.io/eligibility-reasons': '[]' };
    const people = { 'rollguard.io/commit': '4f2a9c1', 'rollguard.io/pull-request': 'https://git.example/shop/pull/7', 'team.example/owner': 'payments' };
    wire.metadata = { ...wire.metadata, annotations: { ...wire.metadata?.annotations, ...stamps, ...people } };
    expect(keptReplicaSet(wire).metadata?.annotations).toEqual({ 'deployment.kubernetes.io/revision': '1', 'kubernetes.io/change-cause': 'deploy', ...people });
    expect(wire.metadata.annotations).toMatchObject(stamps);
  });

  it('gives the same owned revisions and the same view of the deploy as the ReplicaSets as listed', () => {
    const d = keptDeployment(wireDeployment({ 'deployment.kubernetes.io/revision': '2' }));
    const listed = [wireReplicaSet('1', 'd-uid'), wireReplicaSet('2', 'd-uid'), wireReplicaSet('3', 'someone-else')];
    const kept = listed.map((rs) => keptReplicaSet(rs));
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

describe('R7 a kept Deployment shares what equals its previous version or a neighbour, and reads the same', () => {
  const conditions = [
    { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: '2026-12-06T10:00:00Z', lastTransitionTime: '2026-12-06T10:00:00Z' },
    { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "checkout-2" has successfully progressed.', lastUpdateTime: '2026-12-06T10:05:00Z', lastTransitionTime: '2026-12-06T09:00:00Z' },
  ];
  const withConditions = (annotations: Record<string, string>, name = 'checkout'): Deployment => {
    const d = wireDeployment(annotations);
    return JSON.parse(JSON.stringify({ ...d, metadata: { ...d.metadata, name }, status: { ...d.status, conditions } })) as Deployment;
  };

  it('keeps of the status conditions what a decision reads (type, status, reason, update time)', () => {
    const kept = keptDeployment(withConditions({ 'deployment.kubernetes.io/revision': '2' }));
    expect(kept.status?.conditions).toEqual(conditions.map(({ type, status, reason, lastUpdateTime }) => ({ type, status, reason, lastUpdateTime })));
    const now = Date.parse('2026-12-06T11:00:00Z');
    const view = (d: Deployment) => {
      const { deploy, ...rest } = stampedDeploy(d, [], now);
      return { rollout: deploy.rollout, start: deploy.start, ...rest };
    };
    expect(view(kept)).toEqual(view(withConditions({ 'deployment.kubernetes.io/revision': '2' })));
    expect(view(kept).rollout).toEqual({ state: 'complete', at: Date.parse('2026-12-06T10:05:00Z') });
  });

  it('a new version with only a stamp added holds the spec and status of the version it replaces', () => {
    const before = keptDeployment(withConditions({ 'deployment.kubernetes.io/revision': '2' }));
    const stamped = withConditions({ 'deployment.kubernetes.io/revision': '2', 'rollguard.io/rollout-completed': '{"hash":"h"}' });
    const kept = keptDeployment(stamped, before);
    expect(kept).toEqual(keptDeployment(withConditions({ 'deployment.kubernetes.io/revision': '2', 'rollguard.io/rollout-completed': '{"hash":"h"}' })));
    expect(kept.spec).toBe(before.spec);
    expect(kept.status).toBe(before.status);
    expect(kept.metadata).not.toBe(before.metadata);
    expect(kept.metadata?.annotations?.['rollguard.io/rollout-completed']).toBe('{"hash":"h"}');
  });

  it('a neighbour shares its equal parts and nothing of what differs', () => {
    const neighbour = keptDeployment(withConditions({ 'deployment.kubernetes.io/revision': '2' }, 'cart'));
    const kept = keptDeployment(withConditions({ 'deployment.kubernetes.io/revision': '2' }), neighbour);
    expect(kept.metadata?.name).toBe('checkout');
    expect(kept.spec).toBe(neighbour.spec);
    expect(kept).toEqual(keptDeployment(withConditions({ 'deployment.kubernetes.io/revision': '2' })));
  });

  it('marks the kept copy that lacks last-applied, and takes the same version whole only when it says the same', () => {
    const plain = keptDeployment(withConditions({ 'deployment.kubernetes.io/revision': '2' }));
    const applied = keptDeployment(withConditions({ [LAST_APPLIED]: '{}', 'deployment.kubernetes.io/revision': '2' }), plain);
    expect(applied).not.toBe(plain);
    expect(lacksLastApplied(applied)).toBe(true);
    expect(lacksLastApplied(plain)).toBe(false);
    const again = keptDeployment(withConditions({ 'deployment.kubernetes.io/revision': '2' }), plain);
    expect(again).toBe(plain);
  });

  it('likeNeighbours prefers the version replaced, else the last object kept in the same namespace', () => {
    const seen: (string | undefined)[] = [];
    const trim = likeNeighbours<Deployment>((d, like) => {
      seen.push(like?.metadata?.name);
      return d;
    });
    const d = (name: string, namespace: string): Deployment => ({ metadata: { name, namespace } });
    const a = trim(d('a', 'shop'), undefined);
    trim(d('b', 'shop'), undefined);
    trim(d('c', 'other'), undefined);
    trim(d('a', 'shop'), a);
    expect(seen).toEqual([undefined, 'a', undefined, 'a']);
  });

  it('a ReplicaSet record shares the strings and annotations equal to a neighbour, with the same content', () => {
    const first = keptReplicaSet(wireReplicaSet('1', 'd-uid'));
    const second = keptReplicaSet(wireReplicaSet('2', 'd-uid'), first);
    expect(second).toEqual(keptReplicaSet(wireReplicaSet('2', 'd-uid')));
    expect(second.metadata?.ownerReferences).toBe(first.metadata?.ownerReferences);
  });
});

describe('R7 a kept Deployment holds the labels its template and selector repeat once', () => {
  it('shares the values equal to the Deployment labels, and the whole object when they are all equal', () => {
    const wire = JSON.parse(JSON.stringify({
      metadata: { name: 'checkout', namespace: 'shop', labels: { app: 'checkout', team: 'shop' } },
      spec: { selector: { matchLabels: { app: 'checkout' } }, template: { metadata: { labels: { app: 'checkout', team: 'shop' } }, spec: { containers: [{ name: 'app' }] } } },
    })) as Deployment;
    const expected = JSON.parse(JSON.stringify(wire)) as Deployment;
    const kept = keptDeployment(wire);
    expect(kept).toEqual(expected);
    expect(kept.spec?.template?.metadata?.labels).toBe(kept.metadata?.labels);
    expect(kept.spec?.selector?.matchLabels).not.toBe(kept.metadata?.labels);
    expect(kept.spec?.selector?.matchLabels).toEqual({ app: 'checkout' });
  });
});

describe('a ReplicaSet kept beside its owner Deployment', () => {
  it('holds every annotation value as before, the owner\'s and its own alike, and finds its owner by the controller reference', () => {
    const d = keptDeployment(wireDeployment({ 'kubernetes.io/change-cause': 'deploy', 'rollguard.io/template-hash': 'sha256:aaaa', 'team': 'shop' }));
    const rs = keptReplicaSet(wireReplicaSet('2', 'd-uid'));
    if (rs.metadata?.annotations) rs.metadata.annotations['rollguard.io/template-hash'] = 'sha256:bbbb';
    const before = structuredClone(rs);
    expect(ownerName(rs)).toBe('checkout');
    const shared = shareOwnerAnnotations(rs, d);
    expect(shared).toEqual(before);
    expect(shared.metadata?.annotations).toEqual({ 'deployment.kubernetes.io/revision': '2', 'kubernetes.io/change-cause': 'deploy', 'rollguard.io/template-hash': 'sha256:bbbb' });
    expect(d.metadata?.annotations?.['rollguard.io/template-hash']).toBe('sha256:aaaa');
  });

  it('is left as it is without an owner or annotations', () => {
    const rs = keptReplicaSet(wireReplicaSet('1', 'd-uid'));
    const before = structuredClone(rs);
    expect(shareOwnerAnnotations(rs, undefined)).toEqual(before);
    expect(shareOwnerAnnotations(rs, { metadata: { name: 'checkout' } })).toEqual(before);
    const orphan = { ...rs, metadata: { ...rs.metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout', uid: 'd-uid' }] } } as ReplicaSet;
    expect(ownerName(orphan)).toBeUndefined();
  });
});

describe('a Job kept as the agent reads it', () => {
  const wireJob = (): Job =>
    JSON.parse(JSON.stringify({
      apiVersion: 'meta.k8s.io/v1',
      kind: 'PartialObjectMetadata',
      metadata: {
        name: 'shop-db-upgrade',
        namespace: 'shop',
        uid: 'job-uid',
        resourceVersion: '12',
        creationTimestamp: '2026-12-06T10:00:00Z',
        labels: { app: 'shop', 'rollguard.io/migration': 'true' },
        annotations: { 'helm.sh/hook': 'pre-upgrade', 'rollguard.io/admitted-at': '2026-12-06T10:00:00Z', [LAST_APPLIED]: JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'm', image: 'flyway:10' }] } } } }) },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: 'cj', controller: true }],
        managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:metadata': {} } }],
      },
    })) as Job;

  it('keeps identity, labels, annotations and owner, leaves managedFields and the last-applied copy out, and reads as the same migration', () => {
    const job = wireJob();
    const kept = keptJob(wireJob());
    expect(kept.metadata?.managedFields).toBeUndefined();
    expect(kept.metadata?.annotations).toEqual({ 'helm.sh/hook': 'pre-upgrade', 'rollguard.io/admitted-at': '2026-12-06T10:00:00Z' });
    for (const field of ['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp', 'labels', 'ownerReferences'] as const) expect(kept.metadata?.[field], field).toEqual(job.metadata?.[field]);
    expect(detectMigration(kept, [], { readStamp: true })).toEqual(detectMigration(job, [], { readStamp: true }));
  });

  it('shares the parts equal to its neighbour', () => {
    const first = keptJob(wireJob());
    const second = keptJob(wireJob(), first);
    expect(second.metadata?.labels).toBe(first.metadata?.labels);
    expect(second.metadata?.ownerReferences).toBe(first.metadata?.ownerReferences);
  });
});

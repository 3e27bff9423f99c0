import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { formatInstant } from '../../src/core/duration.js';
import type { Deployment, ReplicaSet } from '../../src/core/kube.js';
import { stampedDeploy } from '../../src/core/stamped-deploy.js';
import { templateHash } from '../../src/core/template-hash.js';
import { deployment, min, T0 } from '../support/builders.js';

const UID = 'uid-7';

function stamped(image: string, extra: Record<string, string> = {}, status?: Deployment['status']): Deployment {
  const d = deployment({ image, ...(status ? { status } : {}) });
  const hash = templateHash(d.spec?.template);
  d.metadata = {
    ...d.metadata,
    uid: UID,
    annotations: {
      'deployment.kubernetes.io/revision': '2',
      [ANNOTATIONS.templateHash.key]: hash,
      [ANNOTATIONS.templateChangedAt.key]: formatInstant(T0),
      [ANNOTATIONS.changeSet.key]: 'pod-spec-only',
      [ANNOTATIONS.changeSetReasons.key]: '[]',
      ...extra,
    },
  };
  return d;
}

function rs(revision: number, image: string, created: number): ReplicaSet {
  return {
    metadata: {
      name: `checkout-${revision}`,
      creationTimestamp: formatInstant(created),
      annotations: { 'deployment.kubernetes.io/revision': String(revision) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout', uid: UID, controller: true }],
    },
    spec: { template: deployment({ image }).spec?.template },
  };
}

const sets = [rs(1, 'v1', min(-60)), rs(2, 'v2', T0)];
const progressing = { observedGeneration: 4, replicas: 8, updatedReplicas: 3, availableReplicas: 5 };

describe('F1 the agent’s view of a stamped deploy', () => {
  it('takes deployStart from the stamp and the before-template from the previous revision', () => {
    const v = stampedDeploy(stamped('v2'), sets, min(3));
    expect(v.deploy.start).toBe(T0);
    expect(v.deploy.before?.spec?.template?.spec?.containers?.[0]?.image).toBe('v1');
    expect(v.revision).toEqual({ current: 2, previous: 1 });
    expect(v.doubts).toEqual([]);
    expect(v.admitted).toEqual({ kind: 'pod-spec-only', reasons: [] });
  });

  it('R3: the old template began running when the template history says it was admitted', () => {
    const hashOf = (image: string) => templateHash({ ...deployment({ image }).spec?.template, metadata: { labels: { app: 'checkout', 'pod-template-hash': '7f9c' } } });
    const history = JSON.stringify([{ hash: hashOf('v2'), at: formatInstant(T0) }, { hash: hashOf('v1'), at: formatInstant(min(-60)) }]);
    const withHash = sets.map((r) => ({ ...r, spec: { template: { ...r.spec?.template, metadata: { labels: { app: 'checkout', 'pod-template-hash': '7f9c' } } } } }));
    expect(stampedDeploy(stamped('v2', { [ANNOTATIONS.templateHistory.key]: history }), withHash, min(3)).deploy.oldTemplateSince).toBe(min(-60));
    // Unstamped: nothing about the templates is known.
    const unstamped = stamped('v2', { [ANNOTATIONS.templateHistory.key]: history, [ANNOTATIONS.templateHash.key]: 'sha256:other' });
    expect(stampedDeploy(unstamped, withHash, min(3)).deploy.oldTemplateSince).toBeUndefined();
  });

  it('a previous ReplicaSet known by its metadata only leaves the before-template unknown, never a guess', () => {
    const metadataOnly = sets.map((r) => ({ metadata: r.metadata }));
    const v = stampedDeploy(stamped('v2'), metadataOnly, min(3));
    expect(v.deploy.before).toBeUndefined();
    expect(v.revision).toEqual({ current: 2, previous: 1 });
    expect(v.deploy.start).toBe(T0);
  });

  it('an unstamped template change has no start and no before, and says why', () => {
    const d = stamped('v2');
    if (d.spec?.template?.spec?.containers?.[0]) d.spec.template.spec.containers[0].image = 'v3-unstamped';
    const v = stampedDeploy(d, sets, min(3));
    expect(v.stamped).toBe(false);
    expect(v.deploy.start).toBeUndefined();
    expect(v.deploy.before).toBeUndefined();
    expect(v.evaluationStart).toBe(T0);
    expect(v.doubts.join()).toMatch(/no rollguard stamp/);
  });

  it('a rollout seen complete takes the controller’s own time and asks to be recorded', () => {
    const d = stamped('v2');
    d.status = { ...d.status, conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', lastUpdateTime: formatInstant(min(4)) }] };
    const v = stampedDeploy(d, sets, min(6));
    expect(v.deploy.rollout).toEqual({ state: 'complete', at: min(4) });
    expect(v.completionToRecord).toBe(min(4));
  });

  it('a recorded completion for this template survives a later status change; one for another template does not count', () => {
    const mine = stamped('v2', { [ANNOTATIONS.rolloutCompleted.key]: JSON.stringify({ hash: templateHash(deployment({ image: 'v2' }).spec?.template), at: formatInstant(min(5)) }) }, progressing);
    expect(stampedDeploy(mine, sets, min(9)).deploy.rollout).toEqual({ state: 'complete', at: min(5) });
    expect(stampedDeploy(mine, sets, min(9)).completionToRecord).toBeUndefined();
    const other = stamped('v2', { [ANNOTATIONS.rolloutCompleted.key]: JSON.stringify({ hash: 'sha256:0000', at: formatInstant(min(5)) }) }, progressing);
    expect(stampedDeploy(other, sets, min(9)).deploy.rollout).toEqual({ state: 'progressing' });
  });

  it.each([
    [ANNOTATIONS.rolloutCompleted.key, '{"hash":1}'],
    [ANNOTATIONS.blackoutUntil.key, 'tomorrow'],
    [ANNOTATIONS.changeSet.key, 'sort-of'],
    [ANNOTATIONS.changeSetReasons.key, 'not json'],
  ])('an unreadable %s is a doubt', (key, value) => {
    expect(stampedDeploy(stamped('v2', { [key]: value }), sets, min(3)).doubts.length).toBeGreaterThan(0);
  });

  it('reads the blackout', () => {
    const v = stampedDeploy(stamped('v2', { [ANNOTATIONS.blackoutUntil.key]: formatInstant(min(10)) }), sets, min(3));
    expect(v.blackoutUntil).toBe(min(10));
  });
});

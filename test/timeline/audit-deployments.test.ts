import { describe, expect, it } from 'vitest';
import { isRolloutUndoPatch, rolloutComplete } from '../../src/core/rollout.js';
import type { AuditLevel } from '../../src/timeline/audit-event.js';
import { deployAsOf } from '../../src/timeline/deploys.js';
import { AuditTimeline } from '../../src/timeline/audit-timeline.js';
import { checkAuditEvent } from '../../src/timeline/audit-event.js';
import type { Deployment } from '../../src/core/kube.js';
import {
  at,
  auditEvent,
  CONTROLLER_AGENT,
  DEPLOYMENT_CONTROLLER,
  deploymentObject,
  timelineOf,
  type DeploymentOpts,
} from '../fixtures/audit/builders.js';

const V1 = 'registry.example/shop/checkout:1.4.0';
const V2 = 'registry.example/shop/checkout:1.5.0';
const V3 = 'registry.example/shop/checkout:1.6.0';

/** A user's patch of the image, as `kubectl set image` / `kubectl apply` sends it. */
function setImage(minutes: number, image: string, o: DeploymentOpts & { level?: AuditLevel; user?: string } = {}) {
  const patch = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ name: 'app', image }] } } } };
  return auditEvent({
    verb: 'patch',
    resource: 'deployments',
    namespace: 'shop',
    name: 'checkout',
    at: at(minutes),
    level: o.level ?? 'RequestResponse',
    ...(o.user ? { user: o.user } : {}),
    requestObject: patch,
    responseObject: deploymentObject({ image, ...o }),
  });
}

/** The deployment controller's update that stamps the new revision annotation. */
function revisionStamp(minutes: number, image: string, revision: number, generation: number) {
  const obj = deploymentObject({ image, revision, generation });
  return auditEvent({ verb: 'update', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(minutes), user: DEPLOYMENT_CONTROLLER, userAgent: CONTROLLER_AGENT, level: 'RequestResponse', requestObject: obj, responseObject: obj });
}

/** A deployments/status update from the controller: it carries the whole stored object, the current template (`image`) included. */
function status(minutes: number, s: { updated: number; available: number; replicas?: number; observed: number; generation: number; revision?: number; image?: string }, level: AuditLevel = 'RequestResponse') {
  const obj = deploymentObject({
    ...(s.image !== undefined ? { image: s.image } : {}),
    generation: s.generation,
    ...(s.revision !== undefined ? { revision: s.revision } : {}),
    status: { observedGeneration: s.observed, replicas: s.replicas ?? 3, updatedReplicas: s.updated, availableReplicas: s.available },
  });
  return auditEvent({ verb: 'update', resource: 'deployments', subresource: 'status', namespace: 'shop', name: 'checkout', at: at(minutes), user: DEPLOYMENT_CONTROLLER, userAgent: CONTROLLER_AGENT, level, requestObject: obj, responseObject: obj });
}

const create = auditEvent({ verb: 'create', resource: 'deployments', namespace: 'shop', at: at(-60), name: 'checkout', requestObject: deploymentObject({ generation: 1 }), responseObject: deploymentObject({ generation: 1 }) });
const baseline = [create, revisionStamp(-60, V1, 1, 1), status(-59, { updated: 3, available: 3, observed: 1, generation: 1, revision: 1 })];

describe('R1 deploy start: template changes', () => {
  it('a create is a deploy with no previous revision, and the controller gives it revision 1', () => {
    const { deploys, events } = timelineOf(baseline);
    expect(deploys).toHaveLength(1);
    expect(deploys[0]).toMatchObject({ created: true, templateChange: 'changed', start: at(-60), revision: { previous: null, current: 1 }, completeAt: at(-59), before: undefined });
    expect(events.map((e) => e.type)).toEqual(['deployment-template-change', 'rollout-complete']);
  });

  it('R6 with revisionHistoryLimit 0 no previous revision is left to roll back to', () => {
    const deploy = setImage(0, V2, { generation: 2, revision: 1 });
    const stored = deploy.responseObject as { spec: { revisionHistoryLimit?: number } };
    stored.spec.revisionHistoryLimit = 0;
    const { deploys } = timelineOf([...baseline, deploy]);
    expect(deploys[1]?.revision.previous).toBeNull();
    expect(timelineOf([...baseline, setImage(0, V2, { generation: 2, revision: 1 })]).deploys[1]?.revision.previous).toBe(1);
  });

  it('a patch that changes the image is a deploy with before/after objects and both revisions', () => {
    const { deploys, events } = timelineOf([...baseline, setImage(0, V2, { generation: 2, revision: 1 }), revisionStamp(0.01, V2, 2, 2)]);
    const d = deploys[1];
    expect(d).toMatchObject({ created: false, templateChange: 'changed', start: at(0), user: 'alice@example.com', revision: { previous: 1, current: 2 } });
    expect(d?.before?.spec?.template?.spec?.containers?.[0]?.image).toBe(V1);
    expect(d?.after?.spec?.template?.spec?.containers?.[0]?.image).toBe(V2);
    const change = events.find((e) => e.type === 'deployment-template-change' && e.at === at(0));
    expect(change).toMatchObject({ namespace: 'shop', name: 'checkout', created: false, user: 'alice@example.com' });
  });

  it('drops managedFields from the objects it keeps', () => {
    const { deploys } = timelineOf([...baseline, setImage(0, V2, { generation: 2 })]);
    expect(deploys[1]?.after?.metadata?.managedFields).toBeUndefined();
    expect(deploys[1]?.after?.metadata?.name).toBe('checkout');
  });

  it.each<[string, ReturnType<typeof auditEvent>]>([
    ['an annotation patch', auditEvent({ verb: 'patch', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(0), requestObject: { metadata: { annotations: { team: 'payments' } } }, responseObject: deploymentObject({ generation: 1 }) })],
    ['a replicas update', auditEvent({ verb: 'update', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(0), requestObject: deploymentObject({ replicas: 10 }), responseObject: deploymentObject({ replicas: 10, generation: 2 }) })],
    ['a scale subresource write', auditEvent({ verb: 'update', resource: 'deployments', subresource: 'scale', namespace: 'shop', name: 'checkout', at: at(0), requestObject: { kind: 'Scale', spec: { replicas: 9 } } })],
    ['a Request-level patch outside the template', auditEvent({ verb: 'patch', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(0), level: 'Request', requestObject: { spec: { replicas: 4 } } })],
    ['a Metadata-level write by the deployment controller', auditEvent({ verb: 'update', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(0), level: 'Metadata', user: DEPLOYMENT_CONTROLLER })],
    ['a read', auditEvent({ verb: 'get', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(0), responseObject: deploymentObject({ image: V3 }) })],
    ['a Deployment of another API group', auditEvent({ verb: 'patch', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(0), requestObject: {}, responseObject: deploymentObject({ image: V3 }) })],
  ])('R3 %s is not a deploy', (label, e) => {
    const event = label.includes('another API group') ? { ...e, objectRef: { ...e.objectRef, apiGroup: 'example.com' } } : e;
    expect(timelineOf([...baseline, event]).deploys).toHaveLength(1);
  });

  it.each<[string, ReturnType<typeof auditEvent>]>([
    ['Metadata-level patch by a person', auditEvent({ verb: 'patch', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(0), level: 'Metadata' })],
    ['Request-level patch of the template', { ...setImage(0, V2, { level: 'Request' }) }],
    ['Request-level JSON patch of a container image', auditEvent({ verb: 'patch', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(0), level: 'Request', requestObject: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: V2 }] })],
  ])('F1 %s is a possible deploy with unknown objects', (_label, e) => {
    const { deploys, events } = timelineOf([...baseline, e]);
    expect(deploys[1]).toMatchObject({ templateChange: 'possible', after: undefined, start: at(0) });
    expect(events.filter((x) => x.type === 'deployment-template-change')).toHaveLength(2);
  });

  it('F1 a Deployment first seen in an update: a spec change the controller has not observed yet is a possible deploy', () => {
    const changed = auditEvent({ verb: 'update', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(0), requestObject: deploymentObject({ image: V2 }), responseObject: deploymentObject({ image: V2, generation: 8, status: { observedGeneration: 7, replicas: 3, updatedReplicas: 3, availableReplicas: 3 } }) });
    const same = auditEvent({ verb: 'update', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(0), requestObject: deploymentObject({ image: V2 }), responseObject: deploymentObject({ image: V2, generation: 8, status: { observedGeneration: 8, replicas: 3, updatedReplicas: 3, availableReplicas: 3 } }) });
    expect(timelineOf([changed]).deploys).toMatchObject([{ templateChange: 'possible', before: undefined }]);
    expect(timelineOf([same]).deploys).toEqual([]);
  });

  it('F1 a Deployment first seen in a Request-level update is a possible deploy: a client body proves nothing', () => {
    const body = deploymentObject({ image: V2, generation: 8, status: { observedGeneration: 8, replicas: 3, updatedReplicas: 3, availableReplicas: 3 } });
    const replace = auditEvent({ verb: 'update', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(0), level: 'Request', requestObject: body });
    expect(timelineOf([replace]).deploys).toMatchObject([{ templateChange: 'possible', before: undefined }]);
  });

  it('a template change after a possible one is compared again once a body shows the template', () => {
    const possible = setImage(0, V2, { level: 'Request' });
    const events = [...baseline, possible, revisionStamp(0.01, V2, 2, 2), setImage(10, V3, { generation: 3, revision: 2 })];
    expect(timelineOf(events).deploys.map((d) => d.templateChange)).toEqual(['changed', 'possible', 'changed']);
  });
});

describe('R1 deploy complete: deployments/status', () => {
  const deploy = [...baseline, setImage(0, V2, { generation: 2, revision: 1 }), revisionStamp(0.01, V2, 2, 2)];
  const progressing = status(1, { updated: 1, available: 3, replicas: 4, observed: 2, generation: 2, revision: 2, image: V2 });
  const done = status(4, { updated: 3, available: 3, observed: 2, generation: 2, revision: 2, image: V2 });

  it('completes when every replica is updated and available at the observed generation, once', () => {
    const { deploys, events } = timelineOf([...deploy, progressing, done, status(6, { updated: 3, available: 3, observed: 2, generation: 2, image: V2 })]);
    expect(deploys[1]).toMatchObject({ statusSeenAt: at(1), completeAt: at(4) });
    expect(events.filter((e) => e.type === 'rollout-complete').map((e) => e.at)).toEqual([at(-59), at(4)]);
  });

  it('is progressing, not complete, before that, and unknown before any status body', () => {
    const record = timelineOf([...deploy, progressing, done]).deploys[1];
    if (record === undefined) throw new Error('no deploy');
    expect(deployAsOf(record, at(0.5)).rollout).toEqual({ state: 'unknown' });
    expect(deployAsOf(record, at(2)).rollout).toEqual({ state: 'progressing' });
    expect(deployAsOf(record, at(5)).rollout).toEqual({ state: 'complete', at: at(4) });
    expect(deployAsOf(record, at(5))).toMatchObject({ namespace: 'shop', name: 'checkout', start: at(0) });
  });

  it.each<[string, Parameters<typeof status>[1]]>([
    ['the controller has not observed the new generation', { updated: 3, available: 3, observed: 1, generation: 2 }],
    ['old replicas are still running', { updated: 3, available: 3, replicas: 4, observed: 2, generation: 2 }],
    ['not every updated replica is available', { updated: 3, available: 2, observed: 2, generation: 2 }],
    ['fewer updated replicas than wanted', { updated: 2, available: 2, replicas: 2, observed: 2, generation: 2 }],
  ])('is not complete while %s', (_label, s) => {
    expect(timelineOf([...deploy, status(3, s)]).deploys[1]?.completeAt).toBeUndefined();
  });

  it('F1 Metadata-level status writes leave the rollout unknown', () => {
    const { deploys, events } = timelineOf([...deploy, status(1, { updated: 3, available: 3, observed: 2, generation: 2, image: V2 }, 'Metadata')]);
    const record = deploys[1];
    if (record === undefined) throw new Error('no deploy');
    expect(record.completeAt).toBeUndefined();
    expect(deployAsOf(record, at(30)).rollout).toEqual({ state: 'unknown' });
    expect(events.filter((e) => e.type === 'rollout-complete')).toHaveLength(1);
  });

  it('a deploy replaced before it completed is marked superseded, and only the new one completes', () => {
    const { deploys } = timelineOf([...deploy, progressing, setImage(2, V3, { generation: 3, revision: 2 }), status(5, { updated: 3, available: 3, observed: 3, generation: 3, image: V3 })]);
    expect(deploys[1]).toMatchObject({ supersededAt: at(2), completeAt: undefined });
    expect(deploys[2]).toMatchObject({ completeAt: at(5), revision: { previous: 2 } });
  });

  it('rolloutComplete follows kubectl rollout status', () => {
    const obj = (s: Partial<NonNullable<Deployment['status']>>, replicas = 3, generation = 5): Deployment => ({ metadata: { generation }, spec: { replicas }, status: s });
    expect(rolloutComplete(obj({ observedGeneration: 5, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }), 5)).toBe(true);
    expect(rolloutComplete(obj({ observedGeneration: 5, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }), 6)).toBe(false);
    expect(rolloutComplete(obj({ observedGeneration: 5, replicas: 0, updatedReplicas: 0, availableReplicas: 0 }, 0), undefined)).toBe(true);
    expect(rolloutComplete(obj({ replicas: 3, updatedReplicas: 3, availableReplicas: 3 }), undefined)).toBe(false);
  });
});

describe('R8 rollbacks', () => {
  const history = [
    ...baseline,
    setImage(0, V2, { generation: 2, revision: 1 }),
    revisionStamp(0.01, V2, 2, 2),
    status(3, { updated: 3, available: 3, observed: 2, generation: 2, revision: 2, image: V2 }),
  ];

  it('a template change back to an earlier template is a rollback to that revision', () => {
    const { deploys, events } = timelineOf([...history, setImage(20, V1, { generation: 3, revision: 2, user: 'bob@example.com' }), revisionStamp(20.01, V1, 3, 3)]);
    expect(deploys[2]).toMatchObject({ rollback: { how: 'template-restored', toRevision: 1 }, revision: { previous: 2, current: 3 } });
    expect(events.find((e) => e.type === 'rollback')).toEqual({ type: 'rollback', at: at(20), namespace: 'shop', name: 'checkout', by: 'bob@example.com', reason: 'template change restored the template of revision 1', toRevision: 1 });
  });

  it('recognizes the patch kubectl rollout undo sends', () => {
    const restored = deploymentObject({ image: V1, generation: 3, revision: 2 }) as Deployment;
    const undo = auditEvent({
      verb: 'patch',
      resource: 'deployments',
      namespace: 'shop',
      name: 'checkout',
      at: at(20),
      requestObject: [
        { op: 'replace', path: '/spec/template', value: restored.spec?.template },
        { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '2' } },
      ],
      responseObject: restored,
    });
    const { deploys, events } = timelineOf([...history, undo]);
    expect(deploys[2]?.rollback).toEqual({ how: 'rollout-undo', toRevision: 1 });
    expect(events.find((e) => e.type === 'rollback')).toMatchObject({ reason: 'kubectl rollout undo restored the template of revision 1', toRevision: 1 });
  });

  it('a rollout-undo patch is a rollback even when the log does not reach back to the restored template', () => {
    const undo = auditEvent({ verb: 'patch', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(20), level: 'Request', requestObject: [{ op: 'replace', path: '/spec/template', value: {} }, { op: 'replace', path: '/metadata/annotations', value: {} }] });
    const { deploys } = timelineOf([undo]);
    expect(deploys[0]).toMatchObject({ templateChange: 'possible', rollback: { how: 'rollout-undo', toRevision: undefined } });
  });

  it('a new template is not a rollback', () => {
    const { events, deploys } = timelineOf([...history, setImage(20, V3, { generation: 3, revision: 2 })]);
    expect(events.some((e) => e.type === 'rollback')).toBe(false);
    expect(deploys[2]?.rollback).toBeUndefined();
  });

  it('isRolloutUndoPatch needs both replacements', () => {
    expect(isRolloutUndoPatch([{ op: 'replace', path: '/spec/template', value: {} }])).toBe(false);
    expect(isRolloutUndoPatch({ spec: { template: {} }, metadata: { annotations: {} } })).toBe(false);
  });
});

describe('R6 revisions', () => {
  it('a deleted and re-created Deployment starts over', () => {
    const del = auditEvent({ verb: 'delete', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(5), level: 'Metadata' });
    const again = { ...create, auditID: 'again', stageTimestamp: new Date(at(6)).toISOString() };
    const { deploys } = timelineOf([...baseline, del, again]);
    expect(deploys.map((d) => d.created)).toEqual([true, true]);
    expect(deploys[1]?.revision.previous).toBeNull();
  });
});

describe('R3 before-state: the last known object', () => {
  it('R3: a status write is the last known state: the next deploy compares with its template and names it as the before-state', () => {
    const only = [status(-30, { updated: 3, available: 3, observed: 1, generation: 1, revision: 1, image: V1 }), setImage(0, V2, { generation: 2, revision: 1 })];
    const { deploys } = timelineOf(only);
    expect(deploys).toHaveLength(1);
    expect(deploys[0]).toMatchObject({ templateChange: 'changed', beforeKnown: { how: 'object', at: at(-30), source: 'deployments/status update' } });
    expect(deploys[0]?.before?.spec?.template?.spec?.containers?.[0]?.image).toBe(V1);
    const same = timelineOf([status(-30, { updated: 3, available: 3, observed: 1, generation: 1, image: V2 }), setImage(0, V2, { generation: 2, revision: 1 })]);
    expect(same.deploys).toEqual([]);
  });

  it('R3: a status write keeps the spec and labels but not managedFields, the last-applied copy or the status conditions', () => {
    const obj = deploymentObject({ generation: 1, status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 } });
    (obj.metadata as { annotations: Record<string, string> }).annotations['kubectl.kubernetes.io/last-applied-configuration'] = '{"big":"copy"}';
    (obj.status as Record<string, unknown>).conditions = [{ type: 'Available', status: 'True', message: 'long text' }];
    const write = auditEvent({ verb: 'update', resource: 'deployments', subresource: 'status', namespace: 'shop', name: 'checkout', at: at(-30), user: DEPLOYMENT_CONTROLLER, requestObject: obj, responseObject: obj });
    const before = timelineOf([write, setImage(0, V2, { generation: 2 })]).deploys[0]?.before;
    expect(before?.metadata?.managedFields).toBeUndefined();
    expect(before?.metadata?.annotations).toEqual({});
    expect(before?.metadata?.labels).toEqual({ 'app.kubernetes.io/name': 'checkout' });
    expect(before?.status).toEqual({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
    expect(before?.spec?.strategy).toBeDefined();
  });

  it('F1: a status write with an older generation than the known object does not replace it (records slightly out of order)', () => {
    const events = [...baseline, setImage(0, V2, { generation: 2, revision: 1 }), status(0.5, { updated: 3, available: 3, observed: 1, generation: 1, image: V1 }), setImage(5, V1, { generation: 3 })];
    const { deploys } = timelineOf(events);
    expect(deploys[2]?.before?.spec?.template?.spec?.containers?.[0]?.image).toBe(V2);
    expect(deploys[2]?.beforeKnown).toMatchObject({ how: 'object', at: at(0), source: 'deployments patch' });
  });

  it('F1: a Metadata-level template write makes the object unknown until a later write shows it whole again', () => {
    const metadata = auditEvent({ verb: 'patch', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(0), level: 'Metadata' });
    const { deploys } = timelineOf([...baseline, metadata, setImage(5, V2, { generation: 3 })]);
    expect(deploys[1]?.beforeKnown).toEqual({ how: 'object', at: at(-59), source: 'deployments/status update' });
    expect(deploys[2]).toMatchObject({ before: undefined, beforeKnown: { how: 'patch', patchType: 'strategic' } });
    const refreshed = timelineOf([...baseline, metadata, status(2, { updated: 3, available: 3, observed: 2, generation: 2, image: V2 }), setImage(5, V3, { generation: 3 })]);
    expect(refreshed.deploys[2]?.beforeKnown).toEqual({ how: 'object', at: at(2), source: 'deployments/status update' });
  });
});

describe('R3 before-state: status writes at a generation already seen', () => {
  it('R3: a status write at a generation already seen whole keeps no spec while it waits, yet is the known state (same generation, same spec)', () => {
    const timeline = new AuditTimeline();
    const prepared = (e: ReturnType<typeof auditEvent>) => {
      const checked = checkAuditEvent(e);
      if (typeof checked === 'string') throw new Error(checked);
      return timeline.prepare(checked);
    };
    const first = prepared(status(-30, { updated: 3, available: 3, observed: 1, generation: 1, image: V1 }));
    const second = prepared(status(-20, { updated: 3, available: 3, observed: 1, generation: 1, image: V1 }));
    expect(first).toMatchObject({ wholeSpec: true });
    expect(second).toMatchObject({ wholeSpec: false, object: { spec: { replicas: 3 } } });
    expect(second?.resource === 'deployments' ? second.object?.spec?.template : 'not a deployment record').toBeUndefined();
    const metadata = auditEvent({ verb: 'patch', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(-25), level: 'Metadata' });
    const { deploys } = timelineOf([status(-30, { updated: 3, available: 3, observed: 1, generation: 1, image: V1 }), metadata, status(-20, { updated: 3, available: 3, observed: 1, generation: 1, image: V1 }), setImage(0, V2, { generation: 2 })]);
    const deploy = deploys.find((d) => d.start === at(0));
    expect(deploy?.beforeKnown).toEqual({ how: 'object', at: at(-20), source: 'deployments/status update' });
    expect(deploy?.before?.spec?.template?.spec?.containers?.[0]?.image).toBe(V1);
  });

  it('F1: after a body-less write, a Metadata-level status write does not make the state known again', () => {
    const metadata = auditEvent({ verb: 'patch', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(-25), level: 'Metadata' });
    const slim = status(-20, { updated: 3, available: 3, observed: 1, generation: 1, image: V1 }, 'Metadata');
    const { deploys } = timelineOf([metadata, slim, setImage(0, V2, { generation: 2 })]);
    expect(deploys.find((d) => d.start === at(0))?.before).toBeUndefined();
  });
});

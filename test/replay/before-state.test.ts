import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { OpenMetricsFileSource } from '../../src/metrics/openmetrics-file.js';
import { replayDecisions, type ReplayedDeploy } from '../../src/replay/decisions.js';
import type { AuditEvent, AuditLevel } from '../../src/timeline/audit-event.js';
import { at, auditEvent, configMapObject, CONTROLLER_AGENT, DEPLOYMENT_CONTROLLER, deploymentObject, timelineOf } from '../fixtures/audit/builders.js';
import { generateSeries } from '../support/metric-scenarios.js';
import { toOpenMetrics } from '../support/prometheus.js';

// R3 from an audit log whose earlier record of the Deployment is only a status write, only the
// patch itself, or a Metadata-level write: how the before-state is found and what R3 says.

const source = new OpenMetricsFileSource(
  toOpenMetrics([
    generateSeries({ seed: 7, namespace: 'pay', service: 'api', stepMs: 30_000, start: at(-60), end: at(60), rate: () => 40, errorShare: (t) => (t >= at(3) ? 0.09 : 0.003) }),
  ]),
  DEFAULT_POLICY.metrics,
);

const V1 = 'registry.example/pay/api:2.0.0';
const V2 = 'registry.example/pay/api:2.1.0';
const controller = { user: DEPLOYMENT_CONTROLLER, userAgent: CONTROLLER_AGENT };
const ref = { namespace: 'pay', name: 'api' } as const;

/** Metadata-level reads that show the log records Jobs, ConfigMaps and Secrets. */
const RECORDED = (['jobs', 'configmaps', 'secrets'] as const).map((resource) =>
  auditEvent({ verb: 'list', resource, namespace: 'pay', at: at(-55), level: 'Metadata', auditID: `list-${resource}`, user: 'system:serviceaccount:kube-system:cronjob-controller' }),
);

type Opts = { configMap?: string };

function stored(image: string, generation: number, revision: number, o: Opts & { status?: { observedGeneration: number; replicas: number; updatedReplicas: number; availableReplicas: number } } = {}) {
  return deploymentObject({ ...ref, image, generation, revision, ...o });
}

/** The controller's status write before the deploy: the only record of the Deployment's earlier state. */
function statusBefore(o: Opts = {}, minutes = -40): AuditEvent {
  const obj = stored(V1, 4, 4, { ...o, status: { observedGeneration: 4, replicas: 3, updatedReplicas: 3, availableReplicas: 3 } });
  return auditEvent({ verb: 'update', resource: 'deployments', subresource: 'status', ...ref, at: at(minutes), ...controller, requestObject: obj, responseObject: obj });
}

/** The user's write at minute 1, then the controller's revision stamp and the finished rollout. */
function deployAndRollout(body: unknown, o: Opts & { level?: AuditLevel; query?: string; verb?: 'patch' | 'update' } = {}): AuditEvent[] {
  const after = stored(V2, 5, 4, o);
  const done = stored(V2, 5, 5, { ...o, status: { observedGeneration: 5, replicas: 3, updatedReplicas: 3, availableReplicas: 3 } });
  return [
    auditEvent({ verb: o.verb ?? 'patch', resource: 'deployments', ...ref, at: at(1), auditID: 'deploy', user: 'ci-deployer', level: o.level ?? 'RequestResponse', requestObject: body, responseObject: after, ...(o.query !== undefined ? { query: o.query } : {}) }),
    auditEvent({ verb: 'update', resource: 'deployments', subresource: 'status', ...ref, at: at(4), auditID: 'done', ...controller, level: o.level ?? 'RequestResponse', requestObject: done, responseObject: done }),
  ];
}

function configChangedInPlace(name: string, minutes: number): AuditEvent[] {
  return [
    auditEvent({ verb: 'create', resource: 'configmaps', namespace: 'pay', name, at: at(-50), requestObject: configMapObject(name, { MODE: 'a' }, 'pay'), responseObject: configMapObject(name, { MODE: 'a' }, 'pay') }),
    auditEvent({ verb: 'update', resource: 'configmaps', namespace: 'pay', name, at: at(minutes), requestObject: configMapObject(name, { MODE: 'b' }, 'pay'), responseObject: configMapObject(name, { MODE: 'b' }, 'pay') }),
  ];
}

async function replayOne(events: AuditEvent[]): Promise<ReplayedDeploy> {
  const sorted = [...RECORDED, ...events].sort((a, b) => Date.parse(a.stageTimestamp) - Date.parse(b.stageTimestamp));
  const results = await replayDecisions(timelineOf(sorted), { policyFor: () => DEFAULT_POLICY, source });
  const deploy = results.find((r) => r.record.start === at(1));
  if (deploy === undefined) throw new Error(`no deploy at minute 1 among ${results.length}`);
  return deploy;
}

const r3 = (r: ReplayedDeploy) => r.decision.conditions.podSpecOnly;

const setImage = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ name: 'app', image: V2 }] } } } };

describe('R3 before-state from a status write', () => {
  it('R3: a Deployment known only through deployments/status updates has a known before-state: a clean image change is auto', async () => {
    const r = await replayOne([statusBefore(), ...deployAndRollout(setImage)]);
    expect(r.record.beforeKnown).toEqual({ how: 'object', at: at(-40), source: 'deployments/status update' });
    expect(r.record.before?.spec?.template?.spec?.containers?.[0]?.image).toBe(V1);
    expect(r3(r)).toMatchObject({ status: 'met' });
    expect(r3(r).evidence).toContain('only the pod template changed (images)');
    expect(r3(r).evidence).toContain('before-state: the full object logged at 2026-03-02T09:20:00Z (deployments/status update)');
    expect(r.decision.verdict).toBe('auto');
  });

  it('R3: a field outside the template that differs from the status write\'s object is mixed', async () => {
    const after = stored(V2, 5, 4);
    (after.spec as Record<string, unknown>).minReadySeconds = 30;
    const write = auditEvent({ verb: 'update', resource: 'deployments', ...ref, at: at(1), user: 'ci-deployer', requestObject: after, responseObject: after });
    const r = await replayOne([statusBefore(), write]);
    expect(r3(r)).toMatchObject({ status: 'unmet' });
    expect(r3(r).evidence).toContain('spec.minReadySeconds changed outside the pod template');
  });
});

describe('R3 before-state derived from the patch (no earlier record of the Deployment)', () => {
  it('R3: a strategic merge patch that only sets containers[name=app].image is pod-spec-only (images): auto', async () => {
    const r = await replayOne(deployAndRollout(setImage));
    expect(r.record.before).toBeUndefined();
    expect(r.record.beforeKnown).toMatchObject({ how: 'patch', patchType: 'strategic' });
    expect(r3(r)).toMatchObject({ status: 'met' });
    expect(r3(r).evidence).toContain('only the pod template changed (images)');
    expect(r3(r).evidence).toContain('before-state: derived from the strategic merge patch: untouched fields unchanged; written: spec.template.spec.containers[order], spec.template.spec.containers[name=app].image');
    expect(r.decision.changeSet.diff?.images).toEqual([{ container: 'app', before: undefined, after: V2 }]);
    expect(r.decision.verdict).toBe('auto');
  });

  it('R3: a JSON patch replacing one image is pod-spec-only, its position named by the stored result', async () => {
    const r = await replayOne(deployAndRollout([{ op: 'test', path: '/spec/replicas', value: 3 }, { op: 'replace', path: '/spec/template/spec/containers/0/image', value: V2 }]));
    expect(r.record.beforeKnown).toEqual({ how: 'patch', patchType: 'json', touched: [['spec', 'template', 'spec', 'containers', '[name=app]', 'image']] });
    expect(r3(r)).toMatchObject({ status: 'met' });
    expect(r3(r).evidence).toContain('before-state: derived from the JSON patch');
    expect(r.decision.verdict).toBe('auto');
  });

  it('R3: a merge patch (no directive) replaces the containers list whole: the old refs are unknown, so a ConfigMap changed in place in the window makes it unknown', async () => {
    const body = { spec: { template: { spec: { containers: [{ name: 'app', image: V2 }] } } } };
    const clean = await replayOne(deployAndRollout(body));
    expect(clean.record.beforeKnown).toMatchObject({ how: 'patch', patchType: 'merge', touched: [['spec', 'template', 'spec', 'containers']] });
    expect(r3(clean)).toMatchObject({ status: 'met' });
    expect(r3(clean).evidence).toContain("no ConfigMap or Secret in the namespace (the old template's refs are not known, so every one counts) changed");
    const withConfig = await replayOne([...deployAndRollout(body), ...configChangedInPlace('feature-flags', -10)]);
    expect(r3(withConfig)).toMatchObject({ status: 'unknown' });
    expect(r3(withConfig).evidence).toContain("ConfigMap feature-flags was written at 2026-03-02T09:50:00Z and may be read by a template: the old template's refs are not known (the patch wrote spec.template.spec.containers)");
    expect(withConfig.decision.verdict).toBe('suggest');
  });

  it('F1: with the old refs unknown, a log that does not record Secrets leaves config changes unknown', async () => {
    const body = { spec: { template: { spec: { containers: [{ name: 'app', image: V2 }] } } } };
    const sorted = [RECORDED[0], RECORDED[1], ...deployAndRollout(body)].filter((e) => e !== undefined);
    const [r] = await replayDecisions(timelineOf(sorted), { policyFor: () => DEFAULT_POLICY, source });
    expect(r?.decision.conditions.podSpecOnly.status).toBe('unknown');
    expect(r?.decision.conditions.podSpecOnly.evidence).toContain('the log holds no record of Secrets at all');
  });

  it('F1: a patch that wrote env of the container: a ConfigMap changed in place in the window is not ignored (unknown); the same change with env untouched is ignored', async () => {
    const envPatch = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ name: 'app', image: V2, env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'other', key: 'mode' } } }] }] } } } };
    const touched = await replayOne([...deployAndRollout(envPatch), ...configChangedInPlace('legacy-config', -10)]);
    expect(r3(touched)).toMatchObject({ status: 'unknown' });
    expect(r3(touched).evidence).toContain('ConfigMap legacy-config was written at');
    expect(r3(touched).evidence).toContain('the patch wrote spec.template.spec.containers[name=app].env[name=MODE].valueFrom.configMapKeyRef.name');
    const untouched = await replayOne([...deployAndRollout(setImage), ...configChangedInPlace('legacy-config', -10)]);
    expect(r3(untouched)).toMatchObject({ status: 'met' });
  });

  it('F1: a patch that rewrote envFrom (a list without merge key) hides the old refs; a config the new template reads changed in place is still a known blocker (unmet)', async () => {
    const body = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ name: 'app', envFrom: [{ configMapRef: { name: 'api-config' } }] }] } } } };
    const hidden = await replayOne([...deployAndRollout(body, { configMap: 'api-config' }), ...configChangedInPlace('old-config', -5)]);
    expect(r3(hidden)).toMatchObject({ status: 'unknown' });
    expect(r3(hidden).evidence).toContain('the patch wrote spec.template.spec.containers[name=app].envFrom');
    const blocker = await replayOne([...deployAndRollout(body, { configMap: 'api-config' }), ...configChangedInPlace('api-config', -5)]);
    expect(r3(blocker)).toMatchObject({ status: 'unmet' });
    expect(r3(blocker).evidence).toMatch(/^ConfigMap api-config \(read by the new template via envFrom of container app\) was changed in place/);
  });

  it('R3: a patch that touches the template and spec.strategy is unknown, not mixed: the old strategy is not known (F1)', async () => {
    const body = { spec: { strategy: { rollingUpdate: { maxSurge: '50%' } }, template: { spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ name: 'app', image: V2 }] } } } };
    const r = await replayOne(deployAndRollout(body));
    expect(r3(r)).toMatchObject({ status: 'unknown' });
    expect(r3(r).evidence).toContain('spec.strategy was written by the patch and its value before is not known');
    expect(r3(r).evidence).toContain('written: spec.strategy.rollingUpdate.maxSurge, spec.template.spec.containers[order], spec.template.spec.containers[name=app].image');
    expect(r.decision.verdict).toBe('suggest');
  });

  it('R3: strategic directives that replace or delete parts of the template hide the old refs', async () => {
    const body = { spec: { template: { spec: { volumes: [{ name: 'cfg', $patch: 'delete' }], containers: [{ name: 'app', image: V2 }] } } } };
    const r = await replayOne([...deployAndRollout(body), ...configChangedInPlace('cfg-old', -5)]);
    expect(r.record.beforeKnown).toMatchObject({ how: 'patch', patchType: 'strategic' });
    expect(r3(r)).toMatchObject({ status: 'unknown' });
    expect(r3(r).evidence).toContain('the patch wrote spec.template.spec.volumes[name=cfg]');
  });

  it('R3: a server-side apply body is full intent, not a diff: the before-state is not known', async () => {
    const body = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'pay' }, spec: { template: { spec: { containers: [{ name: 'app', image: V2 }] } } } };
    const r = await replayOne(deployAndRollout(body, { query: '?fieldManager=ci&force=true' }));
    expect(r.record.beforeKnown).toMatchObject({ how: 'unknown' });
    expect(r3(r)).toMatchObject({ status: 'unknown' });
    expect(r3(r).evidence).toContain('before-state: not known (no earlier object of this Deployment is in the log, and the write was a server-side apply');
    expect(r.decision.verdict).toBe('suggest');
  });

  it('R3: a patch outside the template with its stored result is not a deploy, even with no earlier record', () => {
    const after = stored(V1, 5, 4);
    const scale = auditEvent({ verb: 'patch', resource: 'deployments', ...ref, at: at(1), requestObject: { spec: { minReadySeconds: 10 } }, responseObject: after });
    expect(timelineOf([scale]).deploys).toEqual([]);
  });
});

describe('R3 known blockers under an unknown diff', () => {
  const metadataWrite = auditEvent({ verb: 'patch', resource: 'deployments', ...ref, at: at(1), auditID: 'deploy', user: 'ci-deployer', level: 'Metadata' });

  it('R3: a Metadata-level write with a ConfigMap the last known template reads changed in place is unmet, not unknown', async () => {
    const r = await replayOne([statusBefore({ configMap: 'api-config' }), ...configChangedInPlace('api-config', -5), metadataWrite]);
    expect(r.record.after).toBeUndefined();
    expect(r3(r)).toMatchObject({ status: 'unmet' });
    expect(r3(r).evidence).toMatch(/^ConfigMap api-config \(read by the old template via envFrom of container app\) was changed in place at 2026-03-02T09:55:00Z/);
    expect(r3(r).evidence).toContain('the Deployment as the deploy left it is not known');
    expect(r3(r).evidence).toContain('before-state: the full object logged at 2026-03-02T09:20:00Z (deployments/status update)');
    expect(r.decision.verdict).toBe('suggest');
  });

  it('R3: a Metadata-level write with a referenced ConfigMap deleted is unmet; without config changes it stays unknown', async () => {
    const del = auditEvent({ verb: 'delete', resource: 'configmaps', namespace: 'pay', name: 'api-config', at: at(-2), level: 'Metadata' });
    const deleted = await replayOne([statusBefore({ configMap: 'api-config' }), del, metadataWrite]);
    expect(r3(deleted)).toMatchObject({ status: 'unmet' });
    expect(r3(deleted).evidence).toContain('was deleted at');
    const quiet = await replayOne([statusBefore({ configMap: 'api-config' }), metadataWrite]);
    expect(r3(quiet)).toMatchObject({ status: 'unknown' });
  });

  it('F1: a Metadata-level write with no earlier object says the before-state is not known', async () => {
    const r = await replayOne([metadataWrite]);
    expect(r3(r)).toMatchObject({ status: 'unknown' });
    expect(r3(r).evidence).toContain('before-state: not known (no earlier object of this Deployment is in the log, and the write was logged without a body (Metadata level))');
  });
});

describe('R3 a ConfigMap created before the old template began running', () => {
  const CM = 'api-config';
  const cmCreated = (minutes: number): AuditEvent =>
    auditEvent({ verb: 'create', resource: 'configmaps', namespace: 'pay', name: CM, at: at(minutes), auditID: `cm-${minutes}`, requestObject: configMapObject(CM, { MODE: 'a' }, 'pay'), responseObject: configMapObject(CM, { MODE: 'a' }, 'pay') });
  const cmDeleted = (minutes: number): AuditEvent => auditEvent({ verb: 'delete', resource: 'configmaps', namespace: 'pay', name: CM, at: at(minutes), auditID: `cm-delete-${minutes}` });
  /** The Deployment created reading the ConfigMap, and its first rollout finished. */
  const created = (minutes: number): AuditEvent[] => {
    const obj = stored(V1, 1, 1, { configMap: CM });
    const done = stored(V1, 1, 1, { configMap: CM, status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 } });
    return [
      auditEvent({ verb: 'create', resource: 'deployments', ...ref, at: at(minutes), auditID: 'create', user: 'alice', requestObject: obj, responseObject: obj }),
      auditEvent({ verb: 'update', resource: 'deployments', subresource: 'status', ...ref, at: at(minutes + 0.1), auditID: 'first-rollout', ...controller, requestObject: done, responseObject: done }),
    ];
  };

  it('R3: a ConfigMap created, then the Deployment reading it, then a new image: pod-spec-only, auto', async () => {
    // 10:21:44.433, 10:21:44.755, 10:21:50 in the report this case comes from.
    const r = await replayOne([cmCreated(0.8), ...created(0.805), ...deployAndRollout(setImage, { configMap: CM })]);
    expect(r3(r).status).toBe('met');
    expect(r3(r).evidence).toMatch(/ConfigMap api-config was created at .*, before the old template began running .*: its pods have only read this content/);
    expect(r.decision.verdict).toBe('auto');
  });

  it.each([
    ['created after the Deployment (its pods ran without it)', [...created(0.5), cmCreated(0.8)], 'unmet', /api-config .* was re-created at .*, after the old template began running/],
    ['deleted after the Deployment was created and re-created', [cmCreated(-20), ...created(-10), cmDeleted(-5), cmCreated(-4)], 'unmet', /api-config .* was deleted at/],
    ['deleted and re-created before the Deployment was created', [cmCreated(-20), cmDeleted(-12), cmCreated(-11), ...created(-10)], 'met', /its pods have only read this content/],
  ] as const)('R3: a ConfigMap the old template reads %s: %s', async (_label, events, status, evidence) => {
    const r = await replayOne([...events, ...deployAndRollout(setImage, { configMap: CM })]);
    expect(r3(r).status).toBe(status);
    expect(r3(r).evidence).toMatch(evidence);
  });

  it('F1 R3: when the log does not hold the old template\'s admission, the create is unknown as before', async () => {
    const r = await replayOne([cmCreated(-20), statusBefore({ configMap: CM }), ...deployAndRollout(setImage, { configMap: CM })]);
    expect(r3(r).status).toBe('unknown');
    expect(r3(r).evidence).toMatch(/api-config .* was created at .*, and whether the old template's pods read an earlier one is not known/);
    expect(r.decision.verdict).toBe('suggest');
  });
});

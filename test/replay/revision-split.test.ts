import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy.js';
import { OpenMetricsFileSource } from '../../src/metrics/openmetrics-file.js';
import { replayDecisions } from '../../src/replay/decisions.js';
import type { AuditEvent } from '../../src/timeline/audit-event.js';
import { at, auditEvent, timelineOf } from '../fixtures/audit/builders.js';
import { cleanDeploy } from '../fixtures/audit/scenario.js';
import { podSeries } from '../support/pod-series.js';
import { toOpenMetrics } from '../support/prometheus.js';

// R1/R2 in replay with per-pod metrics. Where the audit log holds no ReplicaSet bodies, pods are
// placed by when their series first appeared; where it does, by their ReplicaSet's revision. The deploy is admitted 5 s into a 30 s step and the new
// pods fail from their first request: the onset falls in the deploy's own step. The first new pod
// also appears in that step and is left out; the second appears in the next one.

const DEPLOY_MIN = 1 + 5 / 60;
const JOBS_RECORDED = auditEvent({ verb: 'list', resource: 'jobs', namespace: 'pay', at: at(-30), level: 'Metadata', auditID: 'jobs-list', user: 'system:serviceaccount:kube-system:cronjob-controller' });

function scrapes(failing: 'new' | 'old'): string {
  const deploy = at(DEPLOY_MIN);
  const share = (side: 'new' | 'old') => (t: number) => (side === failing && t > deploy + 3_000 ? 0.5 : 0.003);
  const common = { namespace: 'pay', service: 'api', stepMs: 30_000, rate: () => 20 };
  return toOpenMetrics([
    podSeries('api-5d4f8b7c9-aaaaa', { ...common, seed: 31, start: at(-60), end: at(4), errorShare: share('old') }),
    podSeries('api-5d4f8b7c9-bbbbb', { ...common, seed: 32, start: at(-60), end: at(4), errorShare: share('old') }),
    podSeries('api-7c6b5a4d3-ccccc', { ...common, seed: 33, start: at(-60), end: at(30), errorShare: share('new') }, deploy + 3_000),
    // The second new pod only where the new revision fails (there, the one the split can place).
    ...(failing === 'new' ? [podSeries('api-7c6b5a4d3-ddddd', { ...common, seed: 34, start: at(-60), end: at(30), errorShare: share('new') }, deploy + 30_000)] : []),
  ]);
}

const CONTROLLER = 'system:serviceaccount:kube-system:deployment-controller';

/** The deployment controller's write of a ReplicaSet of Deployment pay/api at a revision. */
function replicaSetWrite(name: string, revision: number, minute: number, level: 'Metadata' | 'Request' = 'Request'): AuditEvent {
  const object = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'pay', annotations: { 'deployment.kubernetes.io/revision': String(revision) }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', controller: true }] },
  };
  return auditEvent({ verb: 'create', resource: 'replicasets', namespace: 'pay', name, at: at(minute), level, user: CONTROLLER, requestObject: object, responseObject: object });
}

async function replay(failing: 'new' | 'old', policy: Policy = DEFAULT_POLICY, extra: readonly AuditEvent[] = []) {
  const events: AuditEvent[] = [JOBS_RECORDED, ...extra, ...cleanDeploy('pay', 'api', DEPLOY_MIN)];
  const source = new OpenMetricsFileSource(scrapes(failing), policy.metrics);
  const [r] = await replayDecisions(timelineOf(events), { policyFor: () => policy, source });
  if (r === undefined) throw new Error('no deploy replayed');
  return r;
}

describe('R1/R2 replay traces the errors to the new pods by first appearance', () => {
  it('a fast failure of the new pods inside the deploy\'s own step: auto, R1 met by the split', async () => {
    const r = await replay('new');
    expect(r.decision.revisionSplit).toMatchObject({ kind: 'new-revision', by: 'first-appearance', unplaced: ['api-7c6b5a4d3-ccccc'] });
    expect(r.decision.revisionSplit?.newPods.pods).toEqual(['api-7c6b5a4d3-ddddd']);
    expect(r.decision.conditions.window.status).toBe('met');
    expect(r.decision.conditions.window.evidence).toMatch(/^the regression's onset is located to the interval that holds the deploy start \(2026-03-02T10:01:05Z\), and 5xx by revision/);
    expect(r.decision.verdict).toBe('auto');
  });

  it('F1 the same scrapes without a pod label: no split; the summed share keeps moving as the rollout replaces the old pods, so the scrapes after the deploy cannot rule out noise: R1 unknown, suggest', async () => {
    const r = await replay('new', { ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, podLabel: '' } });
    expect(r.decision.revisionSplit).toBeUndefined();
    expect(r.decision.conditions.window.status, r.decision.conditions.window.evidence).toBe('unknown');
    expect(r.decision.conditions.window.evidence).toMatch(/^5xx began inside the scrape interval .* that holds the deploy start \(2026-03-02T10:01:05Z\): \d+ errors in \d+ requests there, against \d+ had they begun at the deploy start .*too few to tell/);
    expect(r.decision.conditions.window.evidence).not.toMatch(/by revision/);
    expect(r.decision.verdict).toBe('suggest');
  });

  it('errors in the pods that predate the deploy: suggest, R2 unmet naming them', async () => {
    const r = await replay('old');
    expect(r.decision.revisionSplit?.kind).toBe('old-revision');
    expect(r.decision.verdict).toBe('suggest');
    expect(r.decision.conditions.sameService.status).toBe('unmet');
    expect(r.decision.conditions.sameService.evidence).toContain('api-5d4f8b7c9-aaaaa, api-5d4f8b7c9-bbbbb');
  });
});

describe('R1/R2 replay traces the errors to the new pods by the ReplicaSets in the audit log', () => {
  const replicaSets = [replicaSetWrite('api-5d4f8b7c9', 1, -60), replicaSetWrite('api-7c6b5a4d3', 2, DEPLOY_MIN + 0.01)];

  it("the first new pod, seen in the deploy's own step, is placed by its ReplicaSet's revision, not left out", async () => {
    const r = await replay('new', DEFAULT_POLICY, replicaSets);
    expect(r.decision.revisionSplit).toMatchObject({ kind: 'new-revision', by: 'replicasets', unplaced: [] });
    expect(r.decision.revisionSplit?.newPods).toMatchObject({ pods: ['api-7c6b5a4d3-ccccc', 'api-7c6b5a4d3-ddddd'], revisions: [2] });
    expect(r.decision.revisionSplit?.oldPods).toMatchObject({ pods: ['api-5d4f8b7c9-aaaaa', 'api-5d4f8b7c9-bbbbb'], revisions: [1] });
    expect(r.decision.verdict).toBe('auto');
  });

  it('errors in the old revision: suggest, R2 unmet, naming its pods', async () => {
    const r = await replay('old', DEFAULT_POLICY, replicaSets);
    expect(r.decision.revisionSplit).toMatchObject({ kind: 'old-revision', by: 'replicasets' });
    expect(r.decision.verdict).toBe('suggest');
  });

  it('F1 ReplicaSet writes at Metadata level carry no revision: pods are placed by first appearance', async () => {
    const r = await replay('new', DEFAULT_POLICY, [replicaSetWrite('api-5d4f8b7c9', 1, -60, 'Metadata'), replicaSetWrite('api-7c6b5a4d3', 2, DEPLOY_MIN + 0.01, 'Metadata')]);
    expect(r.decision.revisionSplit).toMatchObject({ by: 'first-appearance', unplaced: ['api-7c6b5a4d3-ccccc'] });
  });
});

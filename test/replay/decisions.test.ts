import { describe, expect, it } from 'vitest';
import { isCovered } from '../../src/core/coverage.js';
import type { DecisionInput } from '../../src/core/decision-types.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { OpenMetricsFileSource } from '../../src/metrics/openmetrics-file.js';
import { decisionInput, evaluationEnd, replayDecisions } from '../../src/replay/decisions.js';
import type { DeployRecord } from '../../src/timeline/deploys.js';
import type { AuditEvent } from '../../src/timeline/audit-event.js';
import { at, auditEvent, jobObject, timelineOf } from '../fixtures/audit/builders.js';
import { cleanDeploy } from '../fixtures/audit/scenario.js';
import { generateSeries } from '../support/metric-scenarios.js';
import { toOpenMetrics } from '../support/prometheus.js';

// Replay's decisions on an in-process timeline and the OpenMetrics adapter: no hindsight, the
// evaluation span, blackouts from earlier rollbacks, and the --from/--to filter.

const source = new OpenMetricsFileSource(
  toOpenMetrics([
    generateSeries({ seed: 7, namespace: 'pay', service: 'api', stepMs: 30_000, start: at(-60), end: at(60), rate: () => 40, errorShare: (t) => (t >= at(3) ? 0.09 : 0.003) }),
  ]),
  DEFAULT_POLICY.metrics,
);
const options = { policyFor: () => DEFAULT_POLICY, source };

function migrationJob(minutes: number): AuditEvent {
  const job = jobObject('db-migrate-9', { labels: { 'rollguard.io/migration': 'true' } }, 'pay');
  return auditEvent({ verb: 'create', resource: 'jobs', namespace: 'pay', name: 'db-migrate-9', at: at(minutes), requestObject: job, responseObject: job });
}

/** The Job controller's periodic list, at Metadata level: the log records Jobs. */
const JOBS_RECORDED = auditEvent({ verb: 'list', resource: 'jobs', namespace: 'pay', at: at(-30), level: 'Metadata', auditID: 'jobs-list', user: 'system:serviceaccount:kube-system:cronjob-controller' });

async function replay(events: AuditEvent[], extra: { from?: number; to?: number; withoutJobs?: boolean } = {}) {
  const all = extra.withoutJobs ? events : [JOBS_RECORDED, ...events];
  const sorted = [...all].sort((a, b) => Date.parse(a.stageTimestamp) - Date.parse(b.stageTimestamp));
  return replayDecisions(timelineOf(sorted), { ...options, from: extra.from, to: extra.to });
}

describe('R1 R4 no hindsight', () => {
  it('decides a clean deploy at the first detectable moment: auto', async () => {
    const [r] = await replay(cleanDeploy('pay', 'api', 1));
    expect(r?.decision.verdict).toBe('auto');
    expect(r?.detectedAt).toBe(r?.decidedAt);
    expect(r?.decidedAt).toBeGreaterThan(at(3));
    expect(r?.decidedAt).toBeLessThan(at(8));
  });

  it('F1 a log that holds no record of Jobs at all cannot rule out a migration: suggest, not auto', async () => {
    const [r] = await replay(cleanDeploy('pay', 'api', 1), { withoutJobs: true });
    expect(r?.decision.conditions.migration.status).toBe('unknown');
    expect(r?.decision.verdict).toBe('suggest');
  });

  it('a migration Job that started after the decision does not count; one before it does', async () => {
    const [later] = await replay([...cleanDeploy('pay', 'api', 1), migrationJob(20)]);
    expect(later?.decision.conditions.migration.status).toBe('met');
    expect(later?.decision.verdict).toBe('auto');
    const [before] = await replay([...cleanDeploy('pay', 'api', 1), migrationJob(-5)]);
    expect(before?.decision.conditions.migration.status).toBe('unmet');
    expect(before?.decision.verdict).toBe('suggest');
  });

  it('F1 the core sees the rollout as it stood: unknown without status bodies, complete only once seen', () => {
    const events = cleanDeploy('pay', 'api', 1);
    const withoutStatus = timelineOf(events.filter((e) => e.objectRef?.subresource !== 'status'));
    const full = timelineOf(events);
    const rollout = (t: typeof full, when: number) => {
      const record = t.deploys[0];
      if (!record) throw new Error('no deploy');
      return decisionInput(t, record, when, DEFAULT_POLICY, undefined, []).deploy.rollout;
    };
    expect(rollout(withoutStatus, at(30))).toEqual({ state: 'unknown' });
    expect(rollout(full, at(2))).toEqual({ state: 'unknown' });
    expect(rollout(full, at(5))).toEqual({ state: 'complete', at: at(4) });
  });
});

describe('F1 coverage: what the audit policy leaves out is unknown, not absent', () => {
  it('config changes are known only when the log records every kind the templates read', () => {
    const timeline = timelineOf(cleanDeploy('pay', 'api', 1));
    const record = timeline.deploys[0];
    if (!record) throw new Error('no deploy');
    const withSecret = { ...record, after: { ...record.after, spec: { template: { spec: { containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'db' } }] }] } } } } };
    const coverage = (observed: typeof timeline.observed, r: DeployRecord) => decisionInput({ ...timeline, observed }, r, at(5), DEFAULT_POLICY, undefined, []).coverage;
    const known = (c: DecisionInput['coverage']) => ({ config: isCovered(c.config), jobs: isCovered(c.jobs) });
    expect(timeline.observed).toEqual(['deployments']);
    expect(known(coverage([], record))).toEqual({ config: true, jobs: false });
    expect(known(coverage(['deployments', 'configmaps'], withSecret))).toEqual({ config: false, jobs: false });
    expect(known(coverage(['deployments', 'jobs', 'secrets'], withSecret))).toEqual({ config: true, jobs: true });
    expect(coverage(['deployments', 'configmaps'], withSecret).config).toEqual({
      known: false,
      evidence: 'the log holds no record of Secrets at all: the audit policy probably leaves them out (--audit-policy FILE (the file given to kube-apiserver --audit-policy-file) makes this exact)',
    });
  });
});

describe('R8 a rollback earlier in the log puts the Deployment in a blackout', () => {
  it('blocks automation for a deploy inside the blackout', async () => {
    const rollback = auditEvent({
      verb: 'patch',
      resource: 'deployments',
      namespace: 'pay',
      name: 'api',
      at: at(-3),
      level: 'Request',
      requestObject: [
        { op: 'replace', path: '/spec/template', value: {} },
        { op: 'replace', path: '/metadata/annotations', value: {} },
      ],
    });
    const results = await replay([...cleanDeploy('pay', 'api', 1), rollback]);
    const deploy = results.find((r) => r.record.start === at(1));
    expect(deploy?.decision.conditions.blackout.status).toBe('unmet');
    expect(deploy?.decision.verdict).not.toBe('auto');
  });
});

describe('R1 evaluation span and filters', () => {
  const record = (start: number, completeAt: number | undefined): DeployRecord => ({
    namespace: 'pay', name: 'api', start, auditID: 'x', user: undefined, templateChange: 'changed', created: false, before: undefined, beforeKnown: { how: 'unknown', why: 'not in this test' }, after: undefined,
    revision: { current: undefined, previous: undefined }, completeAt, statusSeenAt: undefined, supersededAt: undefined, rollback: undefined,
  });

  it('runs 30 min past completion + the onset window (a late onset still reaches a human), or is cut by the next template change', () => {
    expect(evaluationEnd(record(at(0), at(4)), undefined, DEFAULT_POLICY)).toBe(at(49));
    expect(evaluationEnd(record(at(0), undefined), undefined, DEFAULT_POLICY)).toBe(at(75));
    expect(evaluationEnd(record(at(0), at(4)), record(at(10), undefined), DEFAULT_POLICY)).toBe(at(10));
  });

  it('--from/--to keep only deploys that started inside', async () => {
    const events = cleanDeploy('pay', 'api', 1);
    expect(await replay(events, { from: at(2) })).toEqual([]);
    expect(await replay(events, { to: at(0) })).toEqual([]);
    expect(await replay(events, { from: at(0), to: at(2) })).toHaveLength(1);
  });
});

describe('R2 R3 a deploy is decided from its own namespace’s events only', () => {
  it('sees every event of its namespace, in timeline order, and none of another’s, whichever namespace is asked first', () => {
    const timeline = timelineOf([...cleanDeploy('pay', 'api', 1), ...cleanDeploy('shop', 'web', 2), migrationJob(3)].sort((a, b) => Date.parse(a.stageTimestamp) - Date.parse(b.stageTimestamp)));
    const pay = timeline.deploys.find((d) => d.namespace === 'pay');
    const shop = timeline.deploys.find((d) => d.namespace === 'shop');
    if (!pay || !shop) throw new Error('expected a deploy in each namespace');
    const seen = (record: DeployRecord) => decisionInput(timeline, record, at(30), DEFAULT_POLICY, undefined, []).events;
    const expected = (ns: string) => timeline.events.filter((e) => e.namespace === ns);
    expect(new Set(timeline.events.map((e) => e.namespace))).toEqual(new Set(['pay', 'shop']));
    expect(seen(shop)).toEqual(expected('shop'));
    expect(seen(pay)).toEqual(expected('pay'));
    expect(seen(pay).some((e) => e.type === 'job-run')).toBe(true);
    expect(seen(shop).some((e) => e.type === 'job-run')).toBe(false);
  });
});

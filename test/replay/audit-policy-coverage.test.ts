import { describe, expect, it } from 'vitest';
import type { AuditPolicy } from '../../src/core/audit-policy.js';
import { formatInstant } from '../../src/core/duration.js';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy.js';
import { OpenMetricsFileSource } from '../../src/metrics/openmetrics-file.js';
import { auditPolicyCoverage } from '../../src/replay/coverage.js';
import { replayDecisions } from '../../src/replay/decisions.js';
import type { AuditEvent } from '../../src/timeline/audit-event.js';
import { at, auditEvent, configMapObject, timelineOf } from '../fixtures/audit/builders.js';
import { cleanDeploy } from '../fixtures/audit/scenario.js';
import { auditPolicy } from '../support/audit-policy.js';
import { generateSeries } from '../support/metric-scenarios.js';
import { toOpenMetrics } from '../support/prometheus.js';

// Replay's coverage from the cluster's audit policy: a quiet namespace (no Job, no config record in
// the log) whose policy logs those writes had none, so its clean regressing deploy can be `auto`;
// what the policy drops stays unknown and names the rule (F1).

const source = new OpenMetricsFileSource(
  toOpenMetrics([
    generateSeries({ seed: 7, namespace: 'pay', service: 'api', stepMs: 30_000, start: at(-60), end: at(60), rate: () => 40, errorShare: (t) => (t >= at(3) ? 0.09 : 0.003) }),
  ]),
  DEFAULT_POLICY.metrics,
);

// The audit policy of docs/replay.md (its write verbs without deletecollection), with the catch-all Metadata rule that logs everything else.
const FULL = auditPolicy(`
  - level: Metadata
    resources: [{ group: "", resources: [secrets] }]
  - level: RequestResponse
    verbs: [create, update, patch, delete]
    resources:
      - { group: apps, resources: [deployments, deployments/status] }
      - { group: batch, resources: [jobs, jobs/status] }
  - level: Request
    verbs: [create, update, patch, delete]
    resources: [{ group: "", resources: [configmaps] }]
  - level: Metadata
`, 'omitStages: [RequestReceived]\n');

async function replayWith(events: AuditEvent[], policy: AuditPolicy | undefined, rollguardPolicy: Policy = DEFAULT_POLICY) {
  const timeline = timelineOf([...events].sort((a, b) => Date.parse(a.stageTimestamp) - Date.parse(b.stageTimestamp)));
  const [r] = await replayDecisions(timeline, { policyFor: () => rollguardPolicy, source, coverage: policy === undefined ? undefined : auditPolicyCoverage(policy) });
  if (r === undefined) throw new Error('no deploy replayed');
  return r.decision;
}

describe('replay coverage from --audit-policy', () => {
  it('R4: a quiet namespace whose policy logs every Job write had no migration: auto, the evidence naming the rule', async () => {
    const guessed = await replayWith(cleanDeploy('pay', 'api', 1), undefined);
    expect(guessed.verdict).toBe('suggest');
    expect(guessed.conditions.migration.evidence).toMatch(/no record of Jobs at all.*--audit-policy FILE/);
    const exact = await replayWith(cleanDeploy('pay', 'api', 1), FULL);
    expect(exact.conditions.migration).toMatchObject({ status: 'met' });
    expect(exact.conditions.migration.evidence).toContain('the audit policy logs every Job write in pay at Metadata or above (rules 2, 4)');
    expect(exact.verdict).toBe('auto');
  });

  it('R3: a Secret the templates read, with no record in the log, had no write when the policy logs it: pod-spec-only', async () => {
    const events = cleanDeploy('pay', 'api', 1, { secret: 'db' });
    const exact = await replayWith(events, FULL);
    expect(exact.conditions.podSpecOnly.status).toBe('met');
    expect(exact.conditions.podSpecOnly.evidence).toContain('the audit policy logs every Secret db write in pay at Metadata (rule 1)');
    expect(exact.verdict).toBe('auto');
    expect((await replayWith(events, undefined)).conditions.podSpecOnly.status).toBe('unknown');
  });

  it('F1 R3: a logged deletecollection of Secrets in the window keeps a Secret the templates read unknown', async () => {
    const gone = auditEvent({ verb: 'deletecollection', resource: 'secrets', namespace: 'pay', at: at(-10), level: 'Metadata' });
    const d = await replayWith([...cleanDeploy('pay', 'api', 1, { secret: 'db' }), gone], FULL);
    expect(d.conditions.podSpecOnly.status).toBe('unknown');
    expect(d.conditions.podSpecOnly.evidence).toMatch(/Secret db .* may have been deleted by a deletecollection of Secrets/);
    expect(d.verdict).toBe('suggest');
  });

  it('F1 R3 R4: before the log\'s first record nothing is known, whatever the policy logs', async () => {
    // The log begins 49 minutes before the deploy at minute 1; windows of an hour reach before it.
    const wide = { ...DEFAULT_POLICY, configWindowMs: 60 * 60_000, migrationWindowMs: 60 * 60_000 };
    const d = await replayWith(cleanDeploy('pay', 'api', 1, { secret: 'db' }), FULL, wide);
    const starts = `the audit log starts at ${formatInstant(at(-49))}, later than 1h before the deploy (${formatInstant(at(-59))}): earlier`;
    expect(d.conditions.migration).toMatchObject({ status: 'unknown' });
    expect(d.conditions.migration.evidence).toBe(`${starts} Jobs are not in it, so a migration cannot be ruled out`);
    expect(d.conditions.podSpecOnly.evidence).toContain(`${starts} ConfigMap and Secret changes are not in it, so config changes are not known`);
    expect(d.verdict).toBe('suggest');
    expect((await replayWith(cleanDeploy('pay', 'api', 1, { secret: 'db' }), FULL)).verdict).toBe('auto');
  });

  it('F1 R3: a Secret the policy drops for some user is unknown, naming the rule and the user', async () => {
    const dropping = auditPolicy(`
  - level: None
    users: [vault-injector]
    resources: [{ group: "", resources: [secrets] }]
  - level: RequestResponse
`);
    const d = await replayWith(cleanDeploy('pay', 'api', 1, { secret: 'db' }), dropping);
    expect(d.conditions.podSpecOnly.status).toBe('unknown');
    expect(d.conditions.podSpecOnly.evidence).toContain('the audit policy leaves some Secret db writes in pay out of the log: create of Secret by user vault-injector (rule 1 logs it at level None), update of Secret db by user vault-injector (rule 1 logs it at level None) and 3 more, so config changes are not known');
    expect(d.verdict).toBe('suggest');
  });

  it('F1 R4: Jobs logged only at Metadata cannot rule out a migration', async () => {
    const d = await replayWith(cleanDeploy('pay', 'api', 1), auditPolicy('  - level: Metadata\n'));
    expect(d.conditions.migration.status).toBe('unknown');
    expect(d.conditions.migration.evidence).toBe(
      'the audit policy leaves some Job writes in pay out of the log: create of Job (rule 1 logs it at Metadata, without the object; Request or above shows what it runs), so a migration cannot be ruled out',
    );
    expect(d.verdict).toBe('suggest');
  });

  it('F1: Deployment writes the policy drops for some user leave a doubt: never auto', async () => {
    const p = auditPolicy(`
  - level: None
    userGroups: [system:nodes]
    resources: [{ group: apps, resources: ["deployments/*"] }]
  - level: RequestResponse
`);
    const d = await replayWith(cleanDeploy('pay', 'api', 1), p);
    expect(d.verdict).toBe('suggest');
    expect(d.notes[0]).toMatch(/^rollguard is unsure \(F1\): the audit policy leaves some Deployment api writes in pay out of the log: create of Deployment by group system:nodes \(rule 1 logs it at level None\)/);
  });

  it('F1: a config write that is logged is still judged: a referenced ConfigMap changed in place is mixed', async () => {
    const cm = configMapObject('app-config', { mode: 'new' }, 'pay');
    const write = auditEvent({ verb: 'update', resource: 'configmaps', namespace: 'pay', name: 'app-config', at: at(0), requestObject: cm, responseObject: cm });
    const old = configMapObject('app-config', { mode: 'old' }, 'pay');
    const earlier = auditEvent({ verb: 'create', resource: 'configmaps', namespace: 'pay', name: 'app-config', at: at(-120), requestObject: old, responseObject: old });
    const d = await replayWith([...cleanDeploy('pay', 'api', 1, { configMap: 'app-config' }), earlier, write], FULL);
    expect(d.conditions.podSpecOnly.status).toBe('unmet');
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/timeline/audit-event.js';
import { at, toLog } from '../fixtures/audit/builders.js';
import { cleanDeploy } from '../fixtures/audit/scenario.js';
import { generateSeries } from '../support/metric-scenarios.js';
import { toOpenMetrics } from '../support/prometheus.js';
import { runCliAsync, type CliResult } from '../support/run-cli.js';

// `rollguard replay --audit-policy`: pay/api and shop/web both regress after a clean image change,
// in namespaces that hold no Job or config record at all. The cluster's policy logs everything in
// pay (auto) but drops Secret writes in shop, which shop/web's template reads (unknown, and the
// summary names the rule and the fix). Without the policy both are guessed unknown (suggest).

const dir = mkdtempSync(join(tmpdir(), 'rollguard-replay-audit-policy-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const events: AuditEvent[] = [...cleanDeploy('pay', 'api', 1), ...cleanDeploy('shop', 'web', 2, { secret: 'db' })].sort((a, b) => Date.parse(a.stageTimestamp) - Date.parse(b.stageTimestamp));
const log = join(dir, 'audit.log');
const metrics = join(dir, 'metrics.om');
const policy = join(dir, 'audit-policy.yaml');
const broken = join(dir, 'broken-policy.yaml');
writeFileSync(log, toLog(events));
const series = (namespace: string, service: string, seed: number) =>
  generateSeries({ seed, namespace, service, stepMs: 30_000, start: at(-60), end: at(50), rate: () => 40, errorShare: (t) => (t >= at(4) ? 0.09 : 0.003), latencyMedian: () => 0.08 });
writeFileSync(metrics, toOpenMetrics([series('pay', 'api', 1), series('shop', 'web', 2)]));
writeFileSync(
  policy,
  `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    namespaces: [shop]
    resources: [{group: "", resources: [secrets]}]
  - level: Metadata
    resources: [{group: "", resources: [secrets]}]
  - level: RequestResponse
`,
);
writeFileSync(broken, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n  - level: All\n');

let guessed: CliResult;
let exact: CliResult;
let json: CliResult;
let invalid: CliResult;
beforeAll(async () => {
  [guessed, exact, json, invalid] = await Promise.all([
    runCliAsync(['replay', '--audit', log, '--metrics', metrics]),
    runCliAsync(['replay', '--audit', log, '--metrics', metrics, '--audit-policy', policy]),
    runCliAsync(['replay', '--audit', log, '--metrics', metrics, '--audit-policy', policy, '--output', 'json']),
    runCliAsync(['replay', '--audit', log, '--metrics', metrics, '--audit-policy', broken]),
  ]);
}, 120_000);

const row = (out: string, name: string) => out.split('\n').find((l) => l.startsWith(name)) ?? '';

describe('rollguard replay --audit-policy', () => {
  it('F1: without it, coverage is guessed, both deploys are suggest, and the summary says --audit-policy would make it exact', () => {
    expect(guessed.status).toBe(0);
    expect(row(guessed.stdout, 'pay/api')).toMatch(/ suggest /);
    expect(row(guessed.stdout, 'shop/web')).toMatch(/ suggest /);
    expect(guessed.stdout).toContain('coverage: guessed from what the log mentions');
    expect(guessed.stdout).toContain('--audit-policy FILE (the file given to kube-apiserver --audit-policy-file) makes this exact');
  });

  it('R4 R3: with it, the quiet namespace whose policy logs everything is auto; the Secret the policy drops is unknown', () => {
    expect(exact.status).toBe(0);
    expect(row(exact.stdout, 'pay/api')).toMatch(/ auto /);
    expect(row(exact.stdout, 'shop/web')).toMatch(/ suggest /);
    expect(exact.stdout).toContain('1 auto, 1 suggest');
  });

  it('F1: the summary names the rule that drops the writes and the rule to add', () => {
    const summary = exact.stdout.slice(exact.stdout.indexOf('coverage: '));
    expect(summary).toContain(`coverage: from the audit policy ${policy}: every Deployment, ConfigMap, Secret and Job write is logged in 1 of 2 namespace(s) with deploys (pay)`);
    expect(summary).toContain('  shop: ConfigMap and Secret writes not all logged: create of Secret (rule 1 logs it at level None), update of Secret (rule 1 logs it at level None) and 3 more\n');
    expect(summary).toContain('    to cover them, add this rule before rule 1:\n      - level: Metadata\n        resources: [{group: "", resources: [secrets]}]');
  });

  it('F1: JSON carries the decision evidence and, per namespace and area, the coverage with its rule and fix', () => {
    expect(json.status).toBe(0);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const web = lines.find((l) => l.deployment === 'web') as { verdict: string; conditions: { podSpecOnly: { status: string; evidence: string } } };
    expect(web.verdict).toBe('suggest');
    expect(web.conditions.podSpecOnly.status).toBe('unknown');
    expect(web.conditions.podSpecOnly.evidence).toContain('the audit policy leaves some Secret db writes in shop out of the log');
    const summary = lines.at(-1) as { coverage: { source: string; namespaces: { namespace: string; area: string; known: boolean; rules: number[]; fix: string | null }[] } };
    expect(summary.coverage.source).toBe('audit-policy');
    expect(summary.coverage.namespaces.find((n) => n.namespace === 'shop' && n.area === 'config')).toMatchObject({
      known: false,
      fix: 'add a rule `- level: Metadata\n  resources: [{group: "", resources: [secrets]}]` before rule 1',
    });
    expect(summary.coverage.namespaces.find((n) => n.namespace === 'pay' && n.area === 'jobs')).toMatchObject({ known: true, rules: [3], fix: null });
  });

  it('F5: an invalid audit policy is a usage error naming the file and the field', () => {
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toBe(`rollguard replay: audit policy ${broken}: rules[1].level: expected one of None, Metadata, Request, RequestResponse\n`);
  });
});

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideFile } from '../../src/cli/decide.js';
import { shortReason, WHY_WIDTH } from '../../src/render/decision-text.js';
import { EXAMPLES_DIR, runCli } from '../support/run-cli.js';

const examples = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json')).sort();

describe('R6 every example gives its stated verdict', () => {
  it('has the twelve situations of the source post', () => {
    expect(examples).toHaveLength(12);
  });

  it.each(examples)('%s', async (file) => {
    const { decision, expect: expected } = await decideFile(join(EXAMPLES_DIR, file));
    expect(expected).toBeDefined();
    expect(decision.verdict).toBe(expected);
  });

  it('explains the situation each example is about', async () => {
    const predates = await decideFile(join(EXAMPLES_DIR, '07-regression-predates-deploy.json'));
    expect(predates.decision.conditions.window.evidence).toMatch(/predates the deploy/);
    const argo = await decideFile(join(EXAMPLES_DIR, '11-argocd-managed.json'));
    expect(argo.decision.summary).toMatch(/Argo CD application shop-checkout/);
    const helm = await decideFile(join(EXAMPLES_DIR, '12-helm-managed.json'));
    expect(helm.decision.notes.join('\n')).toMatch(/helm rollback shop -n shop/);
    const migration = await decideFile(join(EXAMPLES_DIR, '03-migration-20-min-before.json'));
    expect(migration.decision.conditions.migration.evidence).toMatch(/checkout-db-migrate-2-15-0/);
  });
});

describe('F5 rollguard decide on the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollguard-decide-'));

  it('prints one ✓/✗/? line per condition and the command', () => {
    const r = runCli(['decide', join(EXAMPLES_DIR, '02-configmap-changed-in-place.json')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^shop\/checkout \(service checkout\): SUGGEST, confidence 0\.\d\d$/m);
    expect(r.stdout).toMatch(/✗ R3 pod-spec-only change set +ConfigMap checkout-config .* changed in place/);
    expect(r.stdout.match(/^ {2}[✓✗?] /gm)).toHaveLength(10);
    expect(r.stdout).toContain('command:      kubectl rollout undo deployment/checkout -n shop --to-revision=6');
  });

  it('prints JSON with --output json', () => {
    const r = runCli(['decide', '--output', 'json', join(EXAMPLES_DIR, '01-clean-pod-spec-only.json')]);
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout) as { verdict: string; conditions: Record<string, { status: string }>; confidence: number };
    expect(d.verdict).toBe('auto');
    expect(Object.keys(d.conditions)).toEqual(['window', 'sameService', 'podSpecOnly', 'migration', 'cleanSignal', 'ownership', 'revision', 'paused', 'blackout', 'mode']);
    expect(d.confidence).toBeGreaterThan(0.9);
  });

  it.each([
    ['not JSON', '{"now": ', /not valid JSON/],
    ['a bad time', JSON.stringify({ now: 'yesterday' }), /now: expected an RFC 3339 time/],
    ['a bad policy', JSON.stringify({ now: '2026-03-02T10:00:00Z', policy: { mode: 'sometimes' } }), /deployment/],
  ])('rejects %s with the field path and exit code 2', (_label, body, message) => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, body);
    const r = runCli(['decide', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it.each([12, 'done'])('F5 names deploy.complete and what it accepts when it is %j', (complete) => {
    const incident = JSON.parse(readFileSync(join(EXAMPLES_DIR, '01-clean-pod-spec-only.json'), 'utf8')) as { deploy: { complete: unknown } };
    incident.deploy.complete = complete;
    const file = join(dir, 'bad-complete.json');
    writeFileSync(file, JSON.stringify(incident));
    const r = runCli(['decide', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`deploy\\.complete: expected "progressing", "unknown" or the RFC 3339 time the rollout completed, .*got ${JSON.stringify(JSON.stringify(complete)).slice(1, -1)}`));
    expect(r.stderr).not.toMatch(/Invalid input/);
  });

  it('names the policy field when only the policy is wrong', () => {
    const incident = JSON.parse(readFileSync(join(EXAMPLES_DIR, '01-clean-pod-spec-only.json'), 'utf8')) as Record<string, unknown>;
    const file = join(dir, 'bad-policy.json');
    writeFileSync(file, JSON.stringify({ ...incident, policy: { thresholds: { errorRate: 2 } } }));
    const r = runCli(['decide', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/policy.thresholds.errorRate: .*below 1/);
  });

  it('reports a missing file clearly', () => {
    const r = runCli(['decide', join(dir, 'missing.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/missing.json:\n {2}- cannot read the file \(ENOENT\)/);
  });

  it('the examples command prints the table and passes', () => {
    const r = runCli(['examples']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/12 incidents, 12 gave their stated verdict/);
    expect(r.stdout).toMatch(/^10-inside-blackout +none +none /m);
  });
});

describe('R10 the tables say why in a few words', () => {
  it.each([
    ['01-clean-pod-spec-only', 'every condition met'],
    ['02-configmap-changed-in-place', 'config changed too'],
    ['03-migration-20-min-before', 'migration nearby'],
    ['04-regression-in-another-service', 'not the deployed service'],
    ['05-latency-only', 'not a clean 5xx signal'],
    ['06-onset-25-min-after-completion', 'began after the window'],
    ['07-regression-predates-deploy', 'began before the deploy'],
    ['09-no-previous-revision', 'no previous revision'],
    ['10-inside-blackout', 'in blackout'],
    ['11-argocd-managed', 'owned by GitOps'],
  ])('%s: %s', async (file, why) => {
    const { decision } = await decideFile(join(EXAMPLES_DIR, `${file}.json`));
    expect(shortReason(decision)).toBe(why);
    expect(why.length).toBeLessThanOrEqual(WHY_WIDTH);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployment } from '../support/builders.js';
import { runCli } from '../support/run-cli.js';

describe('R11 rollguard inspect shows the policy governing a Deployment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollguard-inspect-policy-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'default: { blackout: 20m, mode: auto }\nnamespaces:\n  shop: { mode: suggest, windows: { migration: 1h } }\n');
  const file = join(dir, 'deploy.json');
  writeFileSync(file, JSON.stringify(deployment({ name: 'checkout' })));

  it('from --policy FILE: the level each value came from', () => {
    const r = runCli(['inspect', file, '--policy', policy]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`  policy: policy file ${policy}: namespaces.shop over default\n`);
    expect(r.stdout).toMatch(new RegExp(`\\n    mode +suggest +from namespace policy \\(policy file ${policy}, namespaces\\.shop\\)\\n`));
    expect(r.stdout).toMatch(/\n {4}windows\.migration +1h +from namespace policy/);
    expect(r.stdout).toMatch(/\n {4}blackout +20m +from cluster default \(policy file .*, default\)\n/);
    expect(r.stdout).toMatch(/\n {4}windows\.onset +15m +from built-in default\n/);
    expect(r.stdout).toMatch(/\n {4}serviceLabel +app\.kubernetes\.io\/name +from built-in default\n/);
    expect(r.stdout).toMatch(/\n {4}thresholds\.errorRate +0\.02 +from built-in default\n/);
  });

  it('as JSON, and not at all for a file without --policy (nothing to tell it from)', () => {
    const json = JSON.parse(runCli(['inspect', file, '--policy', policy, '-o', 'json']).stdout) as { policy: { fields: { field: string; from: string }[] } };
    expect(json.policy.fields.find((f) => f.field === 'blackout')?.from).toMatch(/^cluster default/);
    expect(runCli(['inspect', file]).stdout).not.toContain('policy:');
  });

  it("R5: a namespace on a preset: the preset, its level, and the metric labels it names where the policy sets none", () => {
    const presets = join(dir, 'presets.yaml');
    writeFileSync(presets, 'default: { metrics: { preset: grpc } }\nnamespaces:\n  shop: { metrics: { preset: opentelemetry, statusLabel: status } }\n');
    const r = runCli(['inspect', file, '--policy', presets]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\n {4}metrics\.preset +opentelemetry +from namespace policy/);
    expect(r.stdout).toMatch(/\n {4}metrics\.serviceLabel +the preset's: service_name +from built-in default\n/);
    expect(r.stdout).toMatch(/\n {4}metrics\.namespaceLabel +the preset's: k8s_namespace_name +from built-in default\n/);
    expect(r.stdout).toMatch(/\n {4}metrics\.statusLabel +status +from namespace policy/);
  });

  it('F5 an invalid policy file is named with its field', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'namespaces:\n  shop: { blackout: soon }\n');
    const r = runCli(['inspect', file, '--policy', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/namespaces\.shop\.blackout/);
  });
});

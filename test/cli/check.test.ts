import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { paths } from '../../src/kube/rest.js';
import { deploymentManifest, POLICY, startAgent } from '../support/agent-helpers.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { freePort } from '../support/process.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { runCliAsync } from '../support/run-cli.js';
import { waitFor } from '../support/wait.js';

// `rollguard check` against the real control plane: an install that works (the webhook registered
// and stamping, an agent holding its Lease with exactly rollguard's RBAC, a real Prometheus with the
// Deployment's series) passes every check; the two most likely install mistakes fail with their fix.

describeWithControlPlane('rollguard check', () => {
  let stack: Stack;
  let agent: Agent;
  let policyFile: string;
  let args: string[];

  beforeAll(async () => {
    stack = await startStack({ prefix: 'check', services: [{ service: 'checkout' }] });
    await stack.admin.create(`/apis/apps/v1/namespaces/${stack.ns}/deployments`, deploymentManifest('checkout', 'shop/checkout:1'));
    policyFile = join(stack.dir, 'agent-policy.yaml');
    await writeFile(policyFile, POLICY);
    agent = startAgent(stack, 'check-agent');
    await agent.start();
    await waitFor('the agent to hold its Lease', () => agent.lease.isLeader(), { timeoutMs: 30_000 });
    args = ['check', '--kubeconfig', stack.cp.kubeconfig, '--namespace', stack.own, '--name', `rollguard-${stack.ns}`, '--dry-run-namespace', stack.ns, '--policy', policyFile];
  }, 240_000);

  afterAll(async () => {
    await agent.stop();
    await stack.stop();
  });

  it('a working install: every check passes, exit 0', async () => {
    const r = await runCliAsync([...args, '--prometheus', stack.prometheus.url, '--deployment', `${stack.ns}/checkout`]);
    const lines = r.stdout.split('\n').filter((l) => /^[✓✗–] /.test(l));
    expect(lines.map((l) => l.slice(0, l.indexOf(':')))).toEqual([
      '✓ the Kubernetes API answers',
      '✓ the webhook configurations are registered',
      '✓ a write is stamped by the webhook (dry run)',
      "✓ the agent's Lease is held",
      "✓ the agent's RBAC is enough",
      '✓ Prometheus answers',
      // The test policy sends nothing to Slack: skipped, with how to enable it.
      '– Slack credentials work',
      `✓ metric selectors match ${stack.ns}/checkout`,
    ]);
    expect(r.stdout).toMatch(/by check-agent, renewed \d+ s ago/);
    expect(r.stdout).toMatch(/rollguard\.io\/created-at/);
    expect(r.stdout).toMatch(/\n7 passed, 0 failed, 1 skipped\n$/);
    expect(r.status).toBe(0);
    // The dry run stored nothing.
    const cms = await stack.admin.get<{ items: { metadata: { name: string } }[] }>(`/api/v1/namespaces/${stack.ns}/configmaps`);
    expect(cms.items.map((c) => c.metadata.name).filter((n) => n.startsWith('rollguard-check-'))).toEqual([]);
  }, 120_000);

  it('F1 a broken install: the webhook not registered and Prometheus unreachable, each ✗ with its fix, exit 1, and JSON for scripts', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const r = await runCliAsync([...args.map((a) => (a === `rollguard-${stack.ns}` ? 'not-installed' : a)), '--prometheus', closed, '-o', 'json']);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; status: string; detail: string; fix?: string }[] };
    expect(out.ok).toBe(false);
    const by = new Map(out.checks.map((c) => [c.name, c]));
    expect(by.get('the webhook configurations are registered')).toMatchObject({ status: 'fail', detail: 'not found: MutatingWebhookConfiguration not-installed, ValidatingWebhookConfiguration not-installed' });
    expect(by.get('the webhook configurations are registered')?.fix).toMatch(/helm install/);
    expect(by.get('Prometheus answers')).toMatchObject({ status: 'fail' });
    expect(by.get('Prometheus answers')?.detail).toMatch(/^Prometheus unreachable at http:\/\/127\.0\.0\.1:\d+/);
    expect(by.get('Prometheus answers')?.fix).toMatch(/path prefix/);
    expect(by.get("the agent's Lease is held")?.status).toBe('pass');
  }, 120_000);

  it("F1 an agent whose service account lacks a permission: the RBAC check names it", async () => {
    const r = await runCliAsync([...args, '--agent-service-account', 'nobody']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/✗ the agent's RBAC is enough: \d+ of \d+ permissions missing: system:serviceaccount:[^:]+:nobody may not get apps\/deployments in every namespace/);
    expect(r.stdout).toMatch(/fix: apply rollguard's RBAC/);
    // The Deployment it would patch is there: the cluster is fine, the identity is not.
    await stack.admin.get(paths.deployment(stack.ns, 'checkout'));
  }, 120_000);
});

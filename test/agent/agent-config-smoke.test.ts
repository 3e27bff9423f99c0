import { stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { parseInstant } from '../../src/core/duration.js';
import type { Deployment } from '../../src/core/kube.js';
import { paths } from '../../src/kube/rest.js';
import { afterDeployStep, deploymentManifest, POLICY, rolledOut, startAgent } from '../support/agent-helpers.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { waitFor } from '../support/wait.js';

// The first smoke test of a new user, on the real control plane through the webhook registered
// with the apiserver: a ConfigMap and the Deployment reading it applied together, then
// `kubectl set image`. The ConfigMap is older than the old template: the old pods have only ever
// read it, so the change set is pod-spec-only (R3) and a clean 5xx regression is rolled back.

describeWithControlPlane('R3 a ConfigMap created with the Deployment that reads it is no change for its template', () => {
  let stack: Stack | undefined;
  let agent: Agent | undefined;

  beforeAll(async () => {
    stack = await startStack({ prefix: 'agent-smoke', services: [{ service: 'checkout' }, { service: 'payments' }], policy: POLICY });
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await stack?.stop();
  }, 60_000);

  it('R3: ConfigMap, Deployment, kubectl set image: the webhook stamps pod-spec-only and the agent rolls a regression back', async () => {
    if (stack === undefined) throw new Error('no stack');
    const { ns, admin, cp } = stack;
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'checkout-config', namespace: ns }, data: { MODE: 'a' } };
    const manifest = deploymentManifest('checkout', 'shop/checkout:1', { env: [{ configMapRef: { name: 'checkout-config' } }] });
    const deployment = { ...manifest, metadata: { ...manifest.metadata, namespace: ns } };
    // One `kubectl apply` of both, the ConfigMap first, as a new user writes them.
    await cp.kubectl(['apply', '-f', '-'], { input: `${stringify(configMap)}---\n${stringify(deployment)}` });
    await rolledOut(stack, ns, 'checkout', 'shop/checkout:1');
    const cm = await admin.get<{ metadata?: { annotations?: Record<string, string> } }>(`/api/v1/namespaces/${ns}/configmaps/checkout-config`);
    const v1 = await admin.get<Deployment>(paths.deployment(ns, 'checkout'));
    const cmCreated = parseInstant(cm.metadata?.annotations?.[ANNOTATIONS.createdAt.key]);
    const templateAt = parseInstant(v1.metadata?.annotations?.[ANNOTATIONS.templateChangedAt.key]);
    expect(cmCreated).toBeDefined();
    expect(cmCreated).toBeLessThan(templateAt ?? 0);

    const running = startAgent(stack, 'agent-smoke');
    agent = running;
    await running.start();
    await waitFor('the agent to lead', () => running.lease.isLeader(), { timeoutMs: 20_000 });

    const deployedAt = Date.now();
    await cp.kubectl(['set', 'image', 'deployment/checkout', 'app=shop/checkout:2', '-n', ns]);
    const deployed = await rolledOut(stack, ns, 'checkout', 'shop/checkout:2');
    const a = deployed.metadata?.annotations ?? {};
    expect(JSON.parse(a[ANNOTATIONS.changeSetReasons.key] ?? 'null')).toEqual([]);
    expect(a[ANNOTATIONS.changeSet.key]).toBe('pod-spec-only');
    expect(a[ANNOTATIONS.eligibility.key]).toBe('eligible');

    await afterDeployStep(deployedAt);
    stack.exporter.set(ns, 'checkout', { errorShare: 0.2 });
    await waitFor('the agent to roll checkout back', async () => {
      const d = await admin.get<Deployment>(paths.deployment(ns, 'checkout'));
      return d.spec?.template?.spec?.containers?.[0]?.image === 'shop/checkout:1' ? d : undefined;
    }, { timeoutMs: 60_000, detail: () => `the agent's latest decision: ${running.latestDecision(ns, 'checkout')?.decision.summary ?? 'none'}` });
    const decision = running.latestDecision(ns, 'checkout')?.decision;
    expect(decision?.verdict).toBe('auto');
    expect(decision?.conditions.podSpecOnly.evidence).toMatch(/ConfigMap checkout-config was created at .*, before the old template began running/);
  }, 240_000);
});

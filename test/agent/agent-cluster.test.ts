import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import type { Deployment } from '../../src/core/kube.js';
import { paths } from '../../src/kube/rest.js';
import { afterDeployStep, deploymentManifest, POLICY, rolledOut, setImage, startAgent } from '../support/agent-helpers.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { startKubelet } from '../support/kubelet.js';
import { createTestNamespace } from '../support/namespaces.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { waitFor } from '../support/wait.js';

// The agent's main path on the real control plane: a clean pod-spec-only deploy, a 5xx regression
// in the deployed service, and exactly one rollback, equal to what `kubectl rollout undo` does from
// the same state; then the blackout keeps it from acting again while errors stay high.

const ROLLGUARD_KEY = /^rollguard\.io\//;
const withoutRollguardKeys = (a: Record<string, string> | undefined) => Object.fromEntries(Object.entries(a ?? {}).filter(([k]) => !ROLLGUARD_KEY.test(k)));

describeWithControlPlane('R7 the agent rolls a clean regression back, exactly once, as kubectl would', () => {
  let stack: Stack | undefined;
  let agent: Agent | undefined;

  beforeAll(async () => {
    stack = await startStack({ prefix: 'agent-main', services: [{ service: 'checkout' }, { service: 'payments' }], policy: POLICY });
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await stack?.stop();
  }, 60_000);

  it('rolls back on a 5xx regression after a pod-spec-only deploy; the result equals kubectl rollout undo from the same state', async () => {
    if (stack === undefined) throw new Error('no stack');
    const { ns, admin } = stack;
    await stack.admin.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deploymentManifest('checkout', 'shop/checkout:1'));
    await rolledOut(stack, ns, 'checkout', 'shop/checkout:1');
    const running = startAgent(stack, 'agent-a');
    agent = running;
    await running.start();
    await waitFor('the agent to lead', () => running.lease.isLeader(), { timeoutMs: 20_000 });

    const deployedAt = await setImage(stack, ns, 'checkout', 'shop/checkout:2');
    const deployed = await rolledOut(stack, ns, 'checkout', 'shop/checkout:2');
    expect(deployed.metadata?.annotations?.[ANNOTATIONS.changeSet.key]).toBe('pod-spec-only');
    // The same state, twice: a twin in a namespace rollguard does not watch, for kubectl to undo.
    const twinNs = await createTestNamespace('agent-twin');
    const twinKubelet = await startKubelet({ kubeConfig: stack.cp.kubeConfig, namespace: twinNs.name });
    try {
      await stack.admin.create(`/apis/apps/v1/namespaces/${twinNs.name}/deployments`, deploymentManifest('checkout', 'shop/checkout:1'));
      await rolledOut(stack, twinNs.name, 'checkout', 'shop/checkout:1');
      await setImage(stack, twinNs.name, 'checkout', 'shop/checkout:2');
      await rolledOut(stack, twinNs.name, 'checkout', 'shop/checkout:2');

      await afterDeployStep(deployedAt);
      stack.exporter.set(ns, 'checkout', { errorShare: 0.2 });
      const rolledBack: Deployment = await waitFor('the agent to roll checkout back', async () => {
        const d = await admin.get<Deployment>(paths.deployment(ns, 'checkout'));
        return d.spec?.template?.spec?.containers?.[0]?.image === 'shop/checkout:1' ? d : undefined;
      }, { timeoutMs: 60_000, detail: () => `the agent's latest decision: ${running.latestDecision(ns, 'checkout')?.decision.summary ?? 'none'}` });

      await stack.cp.kubectl(['rollout', 'undo', 'deployment/checkout', '-n', twinNs.name, '--to-revision=1']);
      // Compared once the deployment controller has numbered both rollbacks (revision 3).
      const settled = (namespace: string) =>
        waitFor(`deployment ${namespace}/checkout at revision 3`, async () => {
          const d = await admin.get<Deployment>(paths.deployment(namespace, 'checkout'));
          return d.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '3' ? d : undefined;
        });
      const twin = await settled(twinNs.name);
      Object.assign(rolledBack, await settled(ns));
      expect(rolledBack.spec?.template).toEqual(twin.spec?.template);
      expect(withoutRollguardKeys(rolledBack.metadata?.annotations)).toEqual(withoutRollguardKeys(twin.metadata?.annotations));
      expect(rolledBack.spec?.replicas).toBe(twin.spec?.replicas);

      const a = rolledBack.metadata?.annotations ?? {};
      expect(a[ANNOTATIONS.rolledBackBy.key]).toBe('rollguard-agent (agent-a)');
      expect(a[ANNOTATIONS.rollbackFromRevision.key]).toBe('2');
      expect(a[ANNOTATIONS.rollbackToRevision.key]).toBe('1');
      expect(a[ANNOTATIONS.decisionId.key]).toMatch(/^[0-9a-f]{16}$/);
      expect(a[ANNOTATIONS.rollbackReason.key]).toMatch(/5xx/);
      expect(Date.parse(a[ANNOTATIONS.blackoutUntil.key] ?? '') - Date.parse(a[ANNOTATIONS.rolledBackAt.key] ?? '')).toBe(10 * 60_000);
      expect(JSON.parse(a[ANNOTATIONS.decision.key] ?? '{}')).toMatchObject({ verdict: 'auto', id: a[ANNOTATIONS.decisionId.key] });
      // The patch's response can arrive after the watch has shown its effect.
      await waitFor('the agent to record its rollback', () => running.decisions.get(a[ANNOTATIONS.decisionId.key] ?? '')?.state === 'rolled-back' || undefined, { timeoutMs: 30_000 });

      // Errors stay high through the rollback's own rollout: the blackout keeps the agent still (R8).
      await rolledOut(stack, ns, 'checkout', 'shop/checkout:1');
      await new Promise((r) => setTimeout(r, 6000));
      const after = await stack.admin.get<Deployment>(paths.deployment(ns, 'checkout'));
      expect(after.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
      expect(after.spec?.template?.spec?.containers?.[0]?.image).toBe('shop/checkout:1');
      const metrics = await running.metrics.registry.getSingleMetricAsString('rollguard_agent_rollbacks_total');
      expect(metrics).toMatch(/rollguard_agent_rollbacks_total\{result="rolled-back"\} 1\b/);
      const events = await stack.admin.get<{ items: { reason: string; involvedObject: { name: string } }[] }>(`${paths.events(ns)}?fieldSelector=involvedObject.name=checkout`);
      expect(events.items.filter((e) => e.reason === 'RolledBack')).toHaveLength(1);
    } finally {
      await twinKubelet.stop();
      await twinNs.cleanup();
    }
  }, 240_000);
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import type { Deployment } from '../../src/core/kube.js';
import { paths } from '../../src/kube/rest.js';
import { afterDeployStep, deploymentManifest, POLICY, rolledOut, setImage, startAgent } from '../support/agent-helpers.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { waitFor } from '../support/wait.js';

// F1 when the webhook does not trust the agent's identity it strips the agent's record: the agent
// must notice and say so, never loop on the same write, and the rollback is still guarded by the
// blackout the webhook stamps for every rollback (R8).

describeWithControlPlane('F1 the agent notices when the webhook strips its record', () => {
  let stack: Stack | undefined;
  let agent: Agent | undefined;

  beforeAll(async () => {
    stack = await startStack({ prefix: 'agent-untrusted', services: [{ service: 'cart' }, { service: 'n1' }, { service: 'n2' }], policy: POLICY, webhookTrustedUser: 'system:serviceaccount:elsewhere:someone-else' });
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await stack?.stop();
  }, 60_000);

  it('F1 says the record was stripped, in its decision and its metrics, writes the same annotations at most once, and the blackout still stops a second rollback', async () => {
    if (stack === undefined) throw new Error('no stack');
    const { ns, admin } = stack;
    const a = startAgent(stack, 'untrusted');
    agent = a;
    await a.start();
    await admin.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deploymentManifest('cart', 'shop/cart:1'));
    await rolledOut(stack, ns, 'cart', 'shop/cart:1');
    const deployedAt = await setImage(stack, ns, 'cart', 'shop/cart:2');
    await rolledOut(stack, ns, 'cart', 'shop/cart:2');
    await afterDeployStep(deployedAt);
    stack.exporter.set(ns, 'cart', { errorShare: 0.2 });
    const rolledBack = await waitFor('the rollback', async () => {
      const d = await admin.get<Deployment>(paths.deployment(ns, 'cart'));
      return d.spec?.template?.spec?.containers?.[0]?.image === 'shop/cart:1' ? d : undefined;
    }, { timeoutMs: 90_000, detail: () => `latest decision: ${a.latestDecision(ns, 'cart')?.decision.summary ?? 'none'} / ${a.latestDecision(ns, 'cart')?.stateReason ?? ''}` });
    const annotations = rolledBack.metadata?.annotations ?? {};
    // The webhook's own record of a rollback by an identity it does not trust: the agent's SA, no decision id.
    expect(annotations[ANNOTATIONS.rolledBackBy.key]).toBe(`system:serviceaccount:${stack.own}:rollguard-agent`);
    expect(annotations[ANNOTATIONS.decisionId.key]).toBeUndefined();
    expect(annotations[ANNOTATIONS.blackoutUntil.key]).toBeDefined();
    // The patch's response can arrive after the watch has shown its effect.
    const record = await waitFor('the agent to record its rollback', () => {
      const r = a.latestDecision(ns, 'cart');
      return r?.state === 'rolled-back' ? r : undefined;
    }, { timeoutMs: 30_000, detail: () => `state ${a.latestDecision(ns, 'cart')?.state ?? 'none'}` });
    expect(record.stateReason).toMatch(/the webhook removed rollguard's record: it does not trust this agent's identity/);

    await rolledOut(stack, ns, 'cart', 'shop/cart:1');
    await new Promise((r) => setTimeout(r, 6000));
    const stripped = (await a.metrics.failures.get()).values.find((v) => v.labels.kind === 'record-stripped')?.value ?? 0;
    expect(stripped).toBeGreaterThanOrEqual(1);
    // Each distinct write is tried once: the count does not grow with every evaluation cycle.
    await new Promise((r) => setTimeout(r, 4000));
    expect((await a.metrics.failures.get()).values.find((v) => v.labels.kind === 'record-stripped')?.value).toBe(stripped);
    const rollbacks = (await a.metrics.rollbacks.get()).values.filter((v) => v.labels.result === 'rolled-back').reduce((n, v) => n + v.value, 0);
    expect(rollbacks).toBe(1);
    expect((await admin.get<Deployment>(paths.deployment(ns, 'cart'))).metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
  }, 240_000);
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import type { Deployment } from '../../src/core/kube.js';
import { paths } from '../../src/kube/rest.js';
import { deploymentManifest, rolledOut, setImage, startAgent } from '../support/agent-helpers.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { followPods, type PodTraffic } from '../support/pod-traffic.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { waitFor } from '../support/wait.js';

// R1/R2 with the errors traced to ReplicaSets, on the real control plane: the test exporter serves
// one series per pod, named as the ReplicaSet controller named the pods, and the agent knows each
// ReplicaSet's revision from its watch. The policy's 10 s step puts errors that start seconds after
// the deploy inside the deploy's own interval, where the onset alone cannot tell (R1 unknown): the
// split is what places them. The second new pod is held Pending so the rollout stays half way, with
// one pod of each revision serving.

const POLICY = `
default:
  metrics: { step: 10s, baseline: 5m }
  thresholds: { persistence: 3, minRequests: 100 }
`;
const STEP = 10_000;

/** Just after a step boundary: a deploy now has the rest of the step for its errors to start in. */
async function stepStart(): Promise<void> {
  const next = (Math.floor(Date.now() / STEP) + 1) * STEP + 300;
  await new Promise((r) => setTimeout(r, next - Date.now()));
}

describeWithControlPlane('R1/R2 the agent traces the errors to the deploy\'s ReplicaSets', () => {
  let stack: Stack | undefined;
  let agent: Agent | undefined;
  const following: PodTraffic[] = [];

  beforeAll(async () => {
    // The traced services have no history of their own: their pods' series start with the pods.
    stack = await startStack({ prefix: 'agent-split', services: [{ service: 'payments' }], policy: POLICY });
    agent = startAgent(stack, 'agent-split', POLICY);
    await agent.start();
    const leading = agent;
    await waitFor('the agent to lead', () => leading.lease.isLeader(), { timeoutMs: 20_000 });
  }, 180_000);

  afterAll(async () => {
    for (const f of following) await f.stop();
    await agent?.stop();
    await stack?.stop();
  }, 60_000);

  /** A Deployment of two pods with per-pod traffic, a baseline, then a deploy frozen with one pod of each revision. */
  async function deployHalfWay(s: Stack, name: string, failing: 'new' | 'old'): Promise<{ traffic: PodTraffic; deployedAt: number }> {
    const before = `shop/${name}:1`;
    const after = `shop/${name}:2`;
    await s.admin.create(`/apis/apps/v1/namespaces/${s.ns}/deployments`, deploymentManifest(name, before));
    await rolledOut(s, s.ns, name, before);
    let raised = false;
    const traffic = followPods(s, name, (image) => ({ errorShare: raised && (image === after) === (failing === 'new') ? 0.2 : 0.002 }));
    following.push(traffic);
    await waitFor(`both ${name} pods serving`, () => traffic.seen.size === 2 || undefined, { timeoutMs: 20_000 });
    // A baseline of several steps before the deploy.
    await new Promise((r) => setTimeout(r, 45_000));
    let first: string | undefined;
    s.kubelet.setHold((pod) => {
      if (pod.spec?.containers[0]?.image !== after) return false;
      first ??= pod.metadata?.name;
      return pod.metadata?.name !== first;
    });
    await stepStart();
    const deployedAt = await setImage(s, s.ns, name, after);
    await waitFor(`a pod of ${after} serving`, () => [...traffic.seen.values()].includes(after) || undefined, { timeoutMs: 20_000 });
    // Seconds after the rollout started, inside the deploy's own step: the failing side's pods fail.
    await new Promise((r) => setTimeout(r, Math.max(0, deployedAt + 3_000 - Date.now())));
    raised = true;
    for (const [pod, image] of traffic.seen) {
      if ((image === after) === (failing === 'new')) s.exporter.set(s.ns, name, { errorShare: 0.2 }, pod);
    }
    return { traffic, deployedAt };
  }

  it('a fast failure in the new ReplicaSet\'s pods is rolled back automatically', async () => {
    if (stack === undefined || agent === undefined) throw new Error('no stack');
    const s = stack;
    const running = agent;
    await deployHalfWay(s, 'checkout', 'new');
    await waitFor('the agent to roll checkout back', async () => {
      const d = await s.admin.get<Deployment>(paths.deployment(s.ns, 'checkout'));
      return d.spec?.template?.spec?.containers?.[0]?.image === 'shop/checkout:1' ? d : undefined;
    }, { timeoutMs: 120_000, detail: () => `the agent's latest decision: ${running.latestDecision(s.ns, 'checkout')?.decision.summary ?? 'none'}` });
    const record = running.latestDecision(s.ns, 'checkout');
    expect(record?.decision.verdict).toBe('auto');
    expect(record?.decision.revisionSplit).toMatchObject({ kind: 'new-revision', by: 'replicasets', newPods: { revisions: [2] }, oldPods: { revisions: [1] } });
    expect(record?.decision.conditions.window).toMatchObject({ status: 'met' });
    expect(record?.decision.conditions.window.evidence).toMatch(/the errors come from the new revision, so the regression cannot predate the deploy/);
    s.kubelet.setHold(undefined);
  }, 240_000);

  it('a regression in the old ReplicaSet\'s pods only gets suggest, naming the pods', async () => {
    if (stack === undefined || agent === undefined) throw new Error('no stack');
    const s = stack;
    const running = agent;
    const { traffic } = await deployHalfWay(s, 'orders', 'old');
    const record = await waitFor('the agent to decide on orders', () => {
      const r = running.latestDecision(s.ns, 'orders');
      return r?.decision.revisionSplit?.kind === 'old-revision' && r.decision.verdict !== 'none' ? r : undefined;
    }, { timeoutMs: 120_000, detail: () => `the agent's latest decision: ${running.latestDecision(s.ns, 'orders')?.decision.summary ?? 'none'}` });
    expect(record.decision.verdict).toBe('suggest');
    expect(record.decision.conditions.sameService.status).toBe('unmet');
    const oldPods = [...traffic.seen].filter(([, image]) => image === 'shop/orders:1').map(([pod]) => pod);
    const failing = record.decision.revisionSplit?.oldPods.pods ?? [];
    expect(failing.length).toBeGreaterThan(0);
    for (const pod of failing) {
      expect(oldPods).toContain(pod);
      expect(record.decision.conditions.sameService.evidence).toContain(pod);
    }
    const d = await s.admin.get<Deployment>(paths.deployment(s.ns, 'orders'));
    expect(d.spec?.template?.spec?.containers?.[0]?.image).toBe('shop/orders:2');
    s.kubelet.setHold(undefined);
  }, 240_000);
});

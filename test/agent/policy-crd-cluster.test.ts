import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { policyPaths } from '../../src/policy/policy-crds.js';
import type { Agent } from '../../src/agent/agent.js';
import { CrdPolicySource } from '../../src/agent/crd-policy-source.js';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { CONDITION_KEYS } from '../../src/core/decision-types.js';
import type { Deployment } from '../../src/core/kube.js';
import type { PolicyStatus } from '../../src/core/policy-objects.js';
import { isStatus, KubeRest, paths } from '../../src/kube/rest.js';
import { afterDeployStep, deploymentManifest, rolledOut, setImage, startAgent } from '../support/agent-helpers.js';
import { controlPlane, describeWithControlPlane } from '../support/control-plane.js';
import { installRollguardCrds } from '../support/rollguard-crds.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { runCliAsync } from '../support/run-cli.js';
import { waitFor } from '../support/wait.js';

// The policy CRDs on the real control plane (Kubernetes 1.20): installed from the generated
// manifests, validated by rollguard's webhook as the apiserver calls it, watched by the agent
// (with exactly its RBAC) and the webhook, reported in status by the agent's leader. The steps run
// in order: each one starts from the policy the one before left.

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const quiet = pino({ level: process.env.ROLLGUARD_TEST_LOG ?? 'silent' });

/** The agent tests' fast detector settings, as a policy object's spec. */
const FAST = { metrics: { step: '1s', baseline: '5m' }, thresholds: { persistence: 3, minRequests: 100 } };

type PolicyJson = { metadata: { generation: number; name: string }; spec: Record<string, unknown>; status?: PolicyStatus };

const accepted = (p: PolicyJson | undefined) => p?.status?.conditions?.find((c) => c.type === 'Accepted');

describeWithControlPlane('R11 policies as Kubernetes objects, on a real apiserver', () => {
  let stack: Stack | undefined;
  let agent: Agent | undefined;
  let source: CrdPolicySource | undefined;
  const extraPaths: string[] = [];

  const need = () => {
    if (stack === undefined || agent === undefined || source === undefined) throw new Error('no stack');
    return { s: stack, a: agent, src: source };
  };
  const policyPath = (ns: string, name: string) => `${policyPaths.namespaced(ns)}/${name}`;
  const getPolicy = (ns: string, name: string) => need().s.admin.get<PolicyJson>(policyPath(ns, name));
  const manifest = (kind: string, name: string, spec: unknown, namespace?: string) =>
    stringify({ apiVersion: 'rollguard.io/v1alpha1', kind, metadata: { name, ...(namespace === undefined ? {} : { namespace }) }, spec }, { version: '1.1' });

  beforeAll(async () => {
    const cp = await controlPlane();
    await installRollguardCrds(new KubeRest(cp.kubeConfig));
    stack = await startStack({ prefix: 'r11', services: [{ service: 'checkout' }, { service: 'payments' }], policySource: 'crd' });
    // The agent's own credentials: its RBAC must allow watching policies and writing their status.
    source = await CrdPolicySource.open({ kubeConfig: stack.agentKubeConfig(), logger: quiet, restartDelayMs: 500, resyncMs: 2000 });
    const a = startAgent(stack, 'r11-agent', undefined, { policies: source });
    agent = a;
    await a.start();
    await waitFor('the agent to lead', () => a.lease.isLeader(), { timeoutMs: 20_000 });
  }, 240_000);

  afterAll(async () => {
    await agent?.stop();
    for (const p of extraPaths) await stack?.admin.request('DELETE', p).catch(() => undefined);
    await stack?.stop();
  }, 60_000);

  it('R11 both CRDs are established with a structural schema on Kubernetes 1.20', async () => {
    const { s } = need();
    for (const name of ['clusterrollbackpolicies.rollguard.io', 'rollbackpolicies.rollguard.io']) {
      const crd = await s.admin.get<{ status: { conditions: { type: string; status: string }[] } }>(`${CRDS}/${name}`);
      const conditions = Object.fromEntries(crd.status.conditions.map((c) => [c.type, c.status]));
      expect(conditions, name).toMatchObject({ Established: 'True', NamesAccepted: 'True' });
      expect(conditions.NonStructuralSchema, name).toBeUndefined();
    }
  });

  it('R11 F5 an invalid policy is rejected at kubectl apply with the field-path message, through the real webhook; a typo too; a ClusterRollbackPolicy too (a namespaceSelector never skips cluster-scoped objects)', async () => {
    const { s } = need();
    const apply = (yaml: string) => s.cp.kubectl(['apply', '-f', '-'], { input: yaml });
    await expect(apply(manifest('RollbackPolicy', 'strict', { windows: { migration: '10m' } }, s.ns))).rejects.toThrow(
      `admission webhook "policy.rollguard.io" denied the request: RollbackPolicy ${s.ns}/strict is invalid: spec.windows.migration: windows.migration cannot be shorter than 30m: the migration guard (R4) can be widened, never weakened`,
    );
    await expect(apply(manifest('RollbackPolicy', 'typo', { windows: { migraton: '2h' } }, s.ns))).rejects.toThrow(/denied the request: RollbackPolicy .*\/typo is invalid: spec\.windows: Unrecognized key: "migraton"/);
    // The schema refuses wrong types by itself, and names the type, never the value (F3).
    const inline = await apply(manifest('RollbackPolicy', 'inline', { notifications: { slack: { botToken: 'xoxb-1-SECRET', channel: '#x' } } }, s.ns)).catch((err: unknown) => err as Error);
    expect(inline).toBeInstanceOf(Error);
    expect((inline as Error).message).toMatch(/spec\.notifications\.slack\.botToken in body must be of type object/);
    expect((inline as Error).message).not.toContain('SECRET');
    const name = `r11-${randomBytes(3).toString('hex')}`;
    await expect(apply(manifest('ClusterRollbackPolicy', name, { windows: { migration: '5m' } }))).rejects.toThrow(`denied the request: ClusterRollbackPolicy ${name} is invalid: spec.windows.migration: windows.migration cannot be shorter than 30m`);
    extraPaths.push(`${policyPaths.collection('ClusterRollbackPolicy')}/${name}`);
    const ignored = await apply(manifest('ClusterRollbackPolicy', name, { mode: 'off' }));
    expect(ignored.stderr).toMatch(new RegExp(`Warning: rollguard: ClusterRollbackPolicy ${name} will not take effect: only the ClusterRollbackPolicy named "default" takes effect`));
    for (const n of ['strict', 'typo', 'inline']) await expect(getPolicy(s.ns, n)).rejects.toSatisfy((err: unknown) => isStatus(err, 404));
  });

  it('R11 a valid policy applies and is reported Accepted; changing its mode from auto to suggest reaches the webhook and the agent’s next decision without a restart', async () => {
    const { s, a, src } = need();
    await s.admin.create(policyPaths.namespaced(s.ns), { apiVersion: 'rollguard.io/v1alpha1', kind: 'RollbackPolicy', metadata: { name: 'rollout' }, spec: { mode: 'auto', ...FAST } });
    const first = await waitFor('status Accepted for generation 1', async () => {
      const p = await getPolicy(s.ns, 'rollout');
      return accepted(p)?.status === 'True' && p.status?.observedGeneration === 1 ? p : undefined;
    });
    expect(first.status).toMatchObject({ appliedGeneration: 1, appliedSpec: { mode: 'auto', ...FAST } });
    expect(accepted(first)).toMatchObject({ reason: 'Valid', message: `in effect: the policy of namespace ${s.ns} (generation 1)`, observedGeneration: 1 });
    expect(src.policyFor(s.ns)).toMatchObject({ mode: 'auto', metrics: { stepMs: 1000 } });

    await s.admin.create(`/apis/apps/v1/namespaces/${s.ns}/deployments`, deploymentManifest('checkout', 'shop/checkout:1'));
    await rolledOut(s, s.ns, 'checkout', 'shop/checkout:1');
    await s.admin.patch(policyPath(s.ns, 'rollout'), 'merge', { spec: { mode: 'suggest' } });
    await waitFor("the agent's policy source to see mode suggest", () => src.policyFor(s.ns).mode === 'suggest');
    // The webhook is a process of its own: a dry-run of the deploy shows which mode it applies.
    await waitFor('the webhook to stamp with mode suggest', async () => {
      const dry = await s.admin.patch<Deployment>(paths.deployment(s.ns, 'checkout'), 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'shop/checkout:2' }] } } } }, { query: { dryRun: 'All' } });
      const reasons = JSON.parse(dry.metadata?.annotations?.[ANNOTATIONS.eligibilityReasons.key] ?? '[]') as string[];
      return reasons.includes('the policy mode for this namespace is "suggest", not "auto"');
    });

    const deployedAt = await setImage(s, s.ns, 'checkout', 'shop/checkout:2');
    const deployed = await rolledOut(s, s.ns, 'checkout', 'shop/checkout:2');
    expect(deployed.metadata?.annotations?.[ANNOTATIONS.eligibility.key]).toBe('human-required');
    expect(deployed.metadata?.annotations?.[ANNOTATIONS.changeSet.key]).toBe('pod-spec-only');
    await afterDeployStep(deployedAt);
    s.exporter.set(s.ns, 'checkout', { errorShare: 0.2 });
    const record = await waitFor('a suggest decision blocked by the policy mode alone', () => {
      const r = a.latestDecision(s.ns, 'checkout');
      if (r?.state === 'rolled-back') return r;
      const failing = r === undefined ? [] : CONDITION_KEYS.filter((k) => r.decision.conditions[k].status !== 'met');
      return r?.decision.verdict === 'suggest' && failing.join() === 'mode' ? r : undefined;
    }, { timeoutMs: 120_000, intervalMs: 200, detail: () => JSON.stringify(a.latestDecision(s.ns, 'checkout')?.decision.conditions ?? {}) });
    expect(record.state).toBe('open');
    expect(record.decision.conditions.mode.evidence).toBe('policy mode is suggest: a human decides every rollback');
    const after = await s.admin.get<Deployment>(paths.deployment(s.ns, 'checkout'));
    expect(after.spec?.template?.spec?.containers?.[0]?.image).toBe('shop/checkout:2');
    expect(after.metadata?.annotations?.[ANNOTATIONS.rolledBackBy.key]).toBeUndefined();
    await waitFor('status Accepted for generation 2', async () => (await getPolicy(s.ns, 'rollout')).status?.appliedGeneration === 2);
  }, 240_000);

  it('R11 a second RollbackPolicy in the namespace is admitted with a warning, reported Conflicting naming the one in effect, and changes nothing', async () => {
    const { s, src } = need();
    const applied = await s.cp.kubectl(['apply', '-f', '-'], { input: manifest('RollbackPolicy', 'later', { mode: 'auto' }, s.ns) });
    expect(applied.stderr).toMatch(new RegExp(`Warning: rollguard: RollbackPolicy ${s.ns}/later will not take effect: namespace ${s.ns} has an older RollbackPolicy, rollout, which takes effect`));
    const later = await waitFor('status Conflicting', async () => {
      const p = await getPolicy(s.ns, 'later');
      return accepted(p)?.reason === 'Conflicting' ? p : undefined;
    });
    expect(accepted(later)).toMatchObject({ status: 'False', message: expect.stringContaining('older RollbackPolicy, rollout, which takes effect') as unknown });
    expect(later.status?.appliedSpec).toBeUndefined();
    expect(src.policyFor(s.ns).mode).toBe('suggest');
    const table = (await s.cp.kubectl(['get', 'rbp', '-n', s.ns])).stdout;
    expect(table).toMatch(/^NAME +MODE +ACCEPTED +REASON +AGE\n/);
    expect(table).toMatch(/\nlater +auto +False +Conflicting +/);
    expect(table).toMatch(/\nrollout +suggest +True +Valid +/);
    await s.admin.request('DELETE', policyPath(s.ns, 'later'));
  });

  it('R11 rollguard inspect names the policy governing a Deployment and where each value came from', async () => {
    const { s } = need();
    const clusterDefault = `${policyPaths.collection('ClusterRollbackPolicy')}/default`;
    await s.admin.request('DELETE', clusterDefault).catch(() => undefined);
    extraPaths.push(clusterDefault);
    await s.admin.create(policyPaths.collection('ClusterRollbackPolicy'), { apiVersion: 'rollguard.io/v1alpha1', kind: 'ClusterRollbackPolicy', metadata: { name: 'default' }, spec: { blackout: '20m' } });
    try {
      const r = await runCliAsync(['inspect', 'deployment/checkout', '-n', s.ns, '--kubeconfig', s.cp.kubeconfig]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`  policy: RollbackPolicy ${s.ns}/rollout (generation 2) over ClusterRollbackPolicy default (generation 1)\n`);
      expect(r.stdout).toMatch(new RegExp(`\\n {4}mode +suggest +from namespace policy \\(RollbackPolicy ${s.ns}/rollout\\)\\n`));
      expect(r.stdout).toMatch(/\n {4}metrics\.step +1s +from namespace policy/);
      expect(r.stdout).toMatch(/\n {4}blackout +20m +from cluster default \(ClusterRollbackPolicy default\)\n/);
      expect(r.stdout).toMatch(/\n {4}windows\.onset +15m +from built-in default\n/);
      expect(r.stdout).toMatch(/\n {4}thresholds\.errorRate +0\.02 +from built-in default\n/);
    } finally {
      await s.admin.request('DELETE', clusterDefault).catch(() => undefined);
    }
  });

  it('F1 a policy that got in while the webhook was down is reported Invalid in its status, and the last valid one keeps applying, for a restarted replica too', async () => {
    const { s, src } = need();
    await s.webhook.stop();
    // Fail open (F2): the apiserver cannot reach the webhook and admits the change.
    await s.admin.patch(policyPath(s.ns, 'rollout'), 'merge', { spec: { mode: 'auto', windows: { migration: '10m' } } });
    const invalid = await waitFor('status Invalid for generation 3', async () => {
      const p = await getPolicy(s.ns, 'rollout');
      return p.status?.observedGeneration === 3 && accepted(p)?.reason === 'Invalid' ? p : undefined;
    });
    expect(invalid.metadata.generation).toBe(3);
    expect(invalid.status).toMatchObject({ appliedGeneration: 2, appliedSpec: { mode: 'suggest', ...FAST } });
    expect(accepted(invalid)?.status).toBe('False');
    expect(accepted(invalid)?.message).toMatch(/^generation 3 is invalid: spec\.windows\.migration: windows\.migration cannot be shorter than 30m.*; generation 2, the last valid one, keeps applying \(F1\)$/);
    // Generation 2 itself (its 1 s step), not a fallback that merely caps the mode.
    const lastValid = { mode: 'suggest', migrationWindowMs: 30 * 60_000, metrics: { stepMs: 1000 } };
    expect(src.policyFor(s.ns)).toMatchObject(lastValid);
    const restarted = await CrdPolicySource.open({ kubeConfig: s.agentKubeConfig(), logger: quiet });
    try {
      expect(restarted.policyFor(s.ns)).toMatchObject(lastValid);
    } finally {
      restarted.stop();
    }
    const table = (await s.cp.kubectl(['get', 'rbp', '-n', s.ns])).stdout;
    expect(table).toMatch(/\nrollout +auto +False +Invalid +/);
  });

  it('F4 a replica that no longer surely holds the Lease writes no policy status; once it does, the status is written', async () => {
    const { s, src } = need();
    src.leading(true, () => false);
    try {
      await s.admin.create(policyPaths.namespaced(s.ns), { apiVersion: 'rollguard.io/v1alpha1', kind: 'RollbackPolicy', metadata: { name: 'late' }, spec: { mode: 'suggest' } });
      await waitFor('the source to see the new policy', () => src.objects().namespaced.some((o) => o.name === 'late'));
      // Past two resyncs (every 2 s here) and the write that follows a change: sent, it would be there.
      await sleep(5000);
      expect((await getPolicy(s.ns, 'late')).status).toBeUndefined();
    } finally {
      src.leading(true, () => true);
    }
    await waitFor('the status written once the Lease is surely held', async () => accepted(await getPolicy(s.ns, 'late')) !== undefined);
  });
});

import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import type { DecisionRecord } from '../../src/agent/decision-record.js';
import { startAgentHttp } from '../../src/agent/http.js';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import type { Deployment } from '../../src/core/kube.js';
import { paths } from '../../src/kube/rest.js';
import { afterDeployStep, deploymentManifest, POLICY, rolledOut, startAgent } from '../support/agent-helpers.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { waitFor } from '../support/wait.js';

// R9 on the real control plane: two services deploy a bad revision at once and both are rolled
// back. checkout's errors go back to baseline after its rollback completed: the handoff says
// recovered, likely the rolled-back code. payments' errors stay high: not recovering, the cause is
// elsewhere. Both arrive as RollbackHandoff Events, during the blackout, and on GET /decisions/{id}.

interface EventItem {
  reason: string;
  message: string;
  metadata: { name: string };
  involvedObject: { name: string };
}

describeWithControlPlane('R9 the handoff after an automatic rollback', () => {
  let stack: Stack | undefined;
  let agent: Agent | undefined;
  let http: { port: number; close(): Promise<void> } | undefined;

  const need = (): { stack: Stack; agent: Agent } => {
    if (stack === undefined || agent === undefined) throw new Error('no stack');
    return { stack, agent };
  };

  const deploy = async (s: Stack, name: string, image: string, annotations: Record<string, string>): Promise<void> => {
    await s.admin.patch(paths.deployment(s.ns, name), 'strategic', { metadata: { annotations }, spec: { template: { spec: { containers: [{ name: 'app', image }] } } } });
  };

  const rolledBack = (name: string): Promise<DecisionRecord> => {
    const { stack: s, agent: a } = need();
    return waitFor(`the agent to roll ${name} back`, async () => {
      const d = await s.admin.get<Deployment>(paths.deployment(s.ns, name));
      const id = d.metadata?.annotations?.[ANNOTATIONS.decisionId.key];
      return d.spec?.template?.spec?.containers?.[0]?.image === `shop/${name}:1` && id !== undefined ? a.decisions.get(id) : undefined;
    }, { timeoutMs: 90_000, detail: () => `latest decision: ${a.latestDecision(s.ns, name)?.decision.summary ?? 'none'}` });
  };

  const handoffEvents = async (name: string): Promise<EventItem[]> => {
    const { stack: s } = need();
    const list = await s.admin.get<{ items: EventItem[] }>(`${paths.events(s.ns)}?fieldSelector=involvedObject.name=${name}`);
    return list.items.filter((e) => e.reason === 'RollbackHandoff');
  };

  const decisionJson = async (id: string): Promise<{ state: string; handoff: Record<string, unknown> | null }> => {
    const res = await fetch(`http://127.0.0.1:${http?.port ?? 0}/decisions/${id}`, { headers: { accept: 'application/json' } });
    return (await res.json()) as { state: string; handoff: Record<string, unknown> | null };
  };

  beforeAll(async () => {
    const s = await startStack({ prefix: 'agent-handoff', services: [{ service: 'checkout' }, { service: 'payments' }], policy: POLICY });
    stack = s;
    for (const name of ['checkout', 'payments']) {
      await s.admin.create(`/apis/apps/v1/namespaces/${s.ns}/deployments`, deploymentManifest(name, `shop/${name}:1`, { annotations: { 'kubernetes.io/change-cause': 'release 1' } }));
    }
    await Promise.all(['checkout', 'payments'].map((name) => rolledOut(s, s.ns, name, `shop/${name}:1`)));
    const running = startAgent(s, 'agent-handoff');
    agent = running;
    await running.start();
    http = await startAgentHttp(running, pino({ level: 'silent' }), 0, '127.0.0.1');
    await waitFor('the agent to lead', () => running.lease.isLeader(), { timeoutMs: 30_000 });
    const deployedAt = Date.now();
    for (const name of ['checkout', 'payments']) {
      await deploy(s, name, `shop/${name}:2`, { 'kubernetes.io/change-cause': 'release 2', [ANNOTATIONS.commit.key]: `${name}-3f2a9c1`, [ANNOTATIONS.pullRequest.key]: `https://git.example/shop/${name}/pull/42` });
    }
    await Promise.all(['checkout', 'payments'].map((name) => rolledOut(s, s.ns, name, `shop/${name}:2`)));
    // payments' deploy is a moment later than deployedAt: a second step of margin covers it.
    await afterDeployStep(deployedAt + 1000);
    for (const name of ['checkout', 'payments']) s.exporter.set(s.ns, name, { errorShare: 0.2 });
  }, 180_000);

  afterAll(async () => {
    await http?.close();
    await agent?.stop();
    await stack?.stop();
  }, 60_000);

  it('(a) errors back to baseline after the rollback completed: recovered, likely the rolled-back code', async () => {
    const { stack: s, agent: a } = need();
    const record = await rolledBack('checkout');
    await rolledOut(s, s.ns, 'checkout', 'shop/checkout:1');
    s.exporter.set(s.ns, 'checkout', { errorShare: 0.002 });

    // The handoff as kept on the decision (its RollbackDecision), read afresh each time.
    const handoff = () => a.decisions.get(record.id)?.handoff;
    const settled = await waitFor('checkout\'s handoff to settle', () => (handoff()?.latest.settled === true ? handoff()?.latest : undefined), {
      timeoutMs: 60_000,
      detail: () => JSON.stringify({ status: handoff()?.latest.recovery, assessment: handoff()?.latest.assessment }),
    });
    expect(settled.recovery.status).toBe('recovered');
    expect(settled.assessment.kind).toBe('likely-the-rolled-back-code');
    expect(settled.changeSet.images).toEqual([{ container: 'app', before: 'shop/checkout:1', after: 'shop/checkout:2' }]);
    expect(settled.changeSet.rolledBack).toMatchObject({ revision: 2, commit: 'checkout-3f2a9c1', pullRequest: 'https://git.example/shop/checkout/pull/42', changeCause: 'release 2' });
    expect(settled.changeSet.restored).toMatchObject({ revision: 1, changeCause: 'release 1' });
    expect(settled.signal.rollbackComplete).toBeGreaterThanOrEqual(settled.signal.rollbackAt);
    // payments regressed with it and is still failing: no shared recovery, no common cause.
    expect(settled.neighbours.map((n) => [n.service, n.sameMoment])).toEqual([['payments', false]]);
    expect(a.handoffs.watching()).not.toContain(record.id);

    // All of it during the blackout, which stops re-evaluation but not the handoff (R8).
    const d = await s.admin.get<Deployment>(paths.deployment(s.ns, 'checkout'));
    expect(Date.parse(d.metadata?.annotations?.[ANNOTATIONS.blackoutUntil.key] ?? '')).toBeGreaterThan(settled.at);

    const events = await waitFor('the settled RollbackHandoff Event', async () => {
      const items = await handoffEvents('checkout');
      return items.some((e) => e.message.includes('(settled)')) ? items : undefined;
    }, { timeoutMs: 20_000 });
    const last = events.find((e) => e.message.includes('(settled)'));
    expect(last?.message).toMatch(/^rollguard handoff for .*\/checkout: error rate recovered; assessment likely-the-rolled-back-code \(settled\)\n/);
    expect(last?.message).toContain('checkout-3f2a9c1');
    // Published only when the assessment changed or settled: never once per evaluation.
    expect(events.length).toBeLessThanOrEqual(4);
    expect(handoff()?.published).toBe(events.length);

    const json = await decisionJson(record.id);
    expect(json.state).toBe('rolled-back');
    expect(json.handoff).toMatchObject({ settled: true, recovery: { status: 'recovered' }, assessment: { kind: 'likely-the-rolled-back-code' } });
  }, 120_000);

  it('(b) errors stay high after the rollback completed: not recovering, the cause is elsewhere', async () => {
    const { agent: a } = need();
    const record = await rolledBack('payments');
    const handoff = () => a.decisions.get(record.id)?.handoff;
    const h = await waitFor('payments\' handoff to say cause-elsewhere', () => (handoff()?.latest.assessment.kind === 'cause-elsewhere' ? handoff()?.latest : undefined), {
      timeoutMs: 90_000,
      detail: () => JSON.stringify({ status: handoff()?.latest.recovery, assessment: handoff()?.latest.assessment }),
    });
    expect(h.recovery.status).toBe('not-recovering');
    expect(h.assessment.evidence[0]).toMatch(/^errors stayed up for .* after the rollback's rollout completed at /);
    const events = await waitFor('a RollbackHandoff Event saying cause-elsewhere', async () => {
      const items = await handoffEvents('payments');
      return items.find((e) => e.message.includes('assessment cause-elsewhere'));
    }, { timeoutMs: 20_000 });
    expect(events.message).toMatch(/error rate not-recovering; assessment cause-elsewhere/);
    const json = await decisionJson(record.id);
    expect(json.handoff).toMatchObject({ recovery: { status: 'not-recovering' }, assessment: { kind: 'cause-elsewhere' } });
  }, 120_000);
});

import type { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { decisionPaths } from '../../src/agent/decision-crd.js';
import { toObject, type RollbackDecisionObject } from '../../src/agent/decision-object.js';
import { publishKey } from '../../src/agent/decision-publisher.js';
import { NotificationSinks } from '../../src/agent/notification-sinks.js';
import { StaticPolicySource } from '../../src/agent/policy-source.js';
import { SecretValues } from '../../src/agent/secret-values.js';
import { KubeRest } from '../../src/kube/rest.js';
import { policySet } from '../support/agent-helpers.js';
import { controlPlane, describeWithControlPlane } from '../support/control-plane.js';
import { blockedByConfig, recordOf } from '../support/decision-fixtures.js';
import { FakeSlack } from '../support/fake-slack.js';
import { createTestNamespace, type TestNamespace } from '../support/namespaces.js';
import { installRollguardCrds } from '../support/rollguard-crds.js';
import { waitFor } from '../support/wait.js';

// F4 across a rolling restart: a leader stopped (SIGTERM) while a decision's Slack message is being
// posted keeps the message (its ts) on the decision and marks it published before it lets the
// Lease go, so the next leader edits that message when the decision is applied, and never posts a
// second one. (The HA test's rolling restart stops the leader right as Slack receives the post.)

const TOKEN = 'xoxb-handover';
const POLICY = `
default:
  mode: suggest
  notifications:
    slack: { botToken: { name: rollguard-slack, key: token }, channel: "#deploys" }
`;

const logger = pino({ level: process.env.ROLLGUARD_TEST_LOG ?? 'silent' });

describeWithControlPlane('F4 a leader stopped in the middle of a Slack post hands the message over', () => {
  let ns: TestNamespace | undefined;
  let admin: KubeRest;
  let kubeConfig: KubeConfig;
  let slack: FakeSlack | undefined;
  const agents: Agent[] = [];

  beforeAll(async () => {
    const cp = await controlPlane();
    kubeConfig = cp.kubeConfig;
    admin = new KubeRest(kubeConfig);
    await installRollguardCrds(admin);
    ns = await createTestNamespace('publish-handover');
    await admin.create(`/api/v1/namespaces/${ns.name}/secrets`, { metadata: { name: 'rollguard-slack' }, stringData: { token: TOKEN } });
    slack = await new FakeSlack({ token: TOKEN, channels: ['#deploys'] }).start();
  }, 180_000);

  afterAll(async () => {
    for (const a of agents) await a.stop().catch(() => undefined);
    await slack?.stop();
    await ns?.cleanup();
  }, 60_000);

  function agent(identity: string): Agent {
    const own = ns?.name ?? '';
    const policies = new StaticPolicySource(policySet(POLICY));
    const a = new Agent({
      kubeConfig,
      namespace: own,
      identity,
      policies,
      sourceFor: () => {
        throw new Error('no metrics in this test');
      },
      sinks: [new NotificationSinks({ policyFor: (n) => policies.policyFor(n), secrets: new SecretValues(new KubeRest(kubeConfig), own), logger, slack: { apiBase: slack?.apiBase ?? '' } })],
      logger,
      intervalMs: 10 * 60_000,
      namespaces: [own],
      lease: { durationMs: 6000, renewDeadlineMs: 4000, retryPeriodMs: 1000 },
      restartDelayMs: 500,
    });
    agents.push(a);
    return a;
  }

  const calls = (method: string, deployment: string) => (slack as FakeSlack).calls(method).filter((c) => JSON.stringify(c.body).includes(`${ns?.name ?? ''}/${deployment}`));

  it('F4 the stopping leader records the ts before the Lease goes; the next leader edits that message to "Rollback applied", never posts again', async () => {
    const own = ns?.name ?? '';
    const fake = slack as FakeSlack;
    // An open decision the previous leader recorded and never published.
    const record = recordOf(blockedByConfig, { id: 'handover-k3', namespace: own, deployment: 'k3' });
    await admin.create<RollbackDecisionObject>(decisionPaths.collection(own), toObject(record, own));
    const release = fake.holdReplies();
    const a = agent('handover-a');
    await a.start();
    await waitFor('a to lead', () => a.lease.isLeader() || undefined, { timeoutMs: 30_000 });
    // Slack has the post; its answer (the ts) has not reached the agent yet.
    await waitFor('the post to reach Slack', () => calls('chat.postMessage', 'k3').length === 1 || undefined, { timeoutMs: 20_000 });
    const stopping = a.stop();
    await new Promise((r) => setTimeout(r, 300));
    release();
    await stopping;
    const kept = await admin.get<RollbackDecisionObject>(decisionPaths.object(own, record.id));
    const posted = [...fake.messages.values()][0];
    expect(kept.status?.notifications?.slack).toEqual({ channel: posted?.channel, ts: posted?.ts });
    expect(kept.status?.published).toBe(publishKey(record));

    const b = agent('handover-b');
    await b.start();
    await waitFor('b to lead', () => b.lease.isLeader() || undefined, { timeoutMs: 30_000 });
    const applied = await b.decisions.transition(record.id, 'applied', 'applied by alice', { by: 'alice', at: Date.now(), via: 'web' });
    expect(applied.won).toBe(true);
    await waitFor('the message edited to Rollback applied', () => calls('chat.update', 'k3').some((c) => /Rollback applied/.test(JSON.stringify(c.body))) || undefined, {
      timeoutMs: 20_000,
      detail: () => `posts ${String(calls('chat.postMessage', 'k3').length)}, updates ${JSON.stringify(calls('chat.update', 'k3').map((c) => c.body?.ts))}`,
    });
    expect(calls('chat.postMessage', 'k3')).toHaveLength(1);
    expect(calls('chat.update', 'k3').every((c) => c.body?.ts === posted?.ts)).toBe(true);
  }, 120_000);
});

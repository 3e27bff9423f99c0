import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { startAgentHttp } from '../../src/agent/http.js';
import { NotificationSinks } from '../../src/agent/notification-sinks.js';
import { SecretValues } from '../../src/agent/secret-values.js';
import { KubeRest } from '../../src/kube/rest.js';
import { afterDeployStep, deploymentManifest, rolledOut, setImage, startAgent } from '../support/agent-helpers.js';
import { startAlertmanager, type RunningAlertmanager } from '../support/alertmanager.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { FakeSlack } from '../support/fake-slack.js';
import { freePort } from '../support/process.js';
import { errorShareAlertRule } from '../support/prometheus-scrape.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { waitFor } from '../support/wait.js';

// R10 end to end: real Prometheus → real Alertmanager → the agent → (fake) Slack. A regression
// after a deploy that came with an in-place ConfigMap change gets one Slack message with
// everything a person needs to decide, and later evaluations edit it instead of posting again.

const TOKEN = 'xoxb-e2e-token';
const POLICY = `
default:
  metrics: { step: 1s, baseline: 5m }
  thresholds: { persistence: 3, minRequests: 100 }
  notifications:
    pageUrl: http://127.0.0.1:8080
    slack: { botToken: { name: rollguard-slack, key: token }, signingSecret: { name: rollguard-slack, key: signing }, channel: "#deploys" }
`;

describeWithControlPlane('R10 an alert becomes one Slack message with everything a person needs', () => {
  let stack: Stack | undefined;
  let agent: Agent | undefined;
  let http: { close(): Promise<void> } | undefined;
  let slack: FakeSlack | undefined;
  let alertmanager: RunningAlertmanager | undefined;

  beforeAll(async () => {
    slack = await new FakeSlack({ token: TOKEN, channels: ['#deploys'] }).start();
    const port = await freePort();
    alertmanager = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${String(port)}/alertmanager` });
    const s = await startStack({
      prefix: 'agent-slack',
      services: ['checkout', 'n1', 'n2', 'n3'].map((service) => ({ service })),
      policy: POLICY,
      alerting: { rules: [errorShareAlertRule({ threshold: 0.05, windowSeconds: 5, forSeconds: 3 })], alertmanagers: [alertmanager.target] },
    });
    stack = s;
    await s.admin.create(`/api/v1/namespaces/${s.own}/secrets`, { metadata: { name: 'rollguard-slack' }, stringData: { token: TOKEN, signing: 'e2e-signing-secret' } });
    const logger = pino({ level: 'silent' });
    let policyOf: (ns: string) => ReturnType<Agent['policyFor']> = () => {
      throw new Error('agent not built');
    };
    const sinks = new NotificationSinks({ policyFor: (ns) => policyOf(ns), secrets: new SecretValues(new KubeRest(s.agentKubeConfig()), s.own), logger, slack: { apiBase: slack.apiBase } });
    // Only the alert makes it evaluate at first; later evaluations come every 2 s.
    const a = startAgent(s, 'slack-e2e', POLICY, { sinks: [sinks], intervalMs: 2000 });
    policyOf = (ns) => a.policyFor(ns);
    agent = a;
    await a.start();
    http = await startAgentHttp(a, logger, port, '127.0.0.1');
  }, 240_000);

  afterAll(async () => {
    await http?.close();
    await agent?.stop();
    await stack?.stop();
    await alertmanager?.stop();
    await slack?.stop();
  }, 60_000);

  it('R10 blocked by a ConfigMap changed in place: one message with the verdict and why, every condition, the command, blast radius, confidence, the page link and the buttons', async () => {
    if (stack === undefined || slack === undefined || agent === undefined) throw new Error('setup failed');
    const s = stack;
    const fake = slack;
    const { ns } = s;
    await s.admin.create(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'checkout-env' }, data: { MODE: 'a' } });
    await s.admin.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deploymentManifest('checkout', 'shop/checkout:1', { env: [{ configMapRef: { name: 'checkout-env' } }] }));
    await rolledOut(s, ns, 'checkout', 'shop/checkout:1');
    await s.admin.patch(`/api/v1/namespaces/${ns}/configmaps/checkout-env`, 'merge', { data: { MODE: 'b' } });
    const deployedAt = await setImage(s, ns, 'checkout', 'shop/checkout:2');
    await rolledOut(s, ns, 'checkout', 'shop/checkout:2');
    await afterDeployStep(deployedAt);
    s.exporter.set(ns, 'checkout', { errorShare: 0.2 });

    const posted = await waitFor('the Slack message', () => fake.calls('chat.postMessage')[0], { timeoutMs: 120_000, detail: () => `latest decision: ${agent?.latestDecision(ns, 'checkout')?.decision.summary ?? 'none'}` });
    const text = JSON.stringify(posted.body);
    expect(posted.authorization).toBe(`Bearer ${TOKEN}`);
    expect(text).toMatch(/suggest/i);
    expect(text).toMatch(/ConfigMap checkout-env .*changed in place/);
    for (const rule of ['R1', 'R2', 'R3', 'R4', 'R5']) expect(text).toContain(rule);
    expect(text).toMatch(/✗/);
    expect(text).toMatch(/✓/);
    expect(text).toMatch(new RegExp(`\`\`\`kubectl rollout undo deployment/checkout -n ${ns} --to-revision=1\`\`\``));
    expect(text).toMatch(/replicas/i);
    expect(text).toMatch(/confidence/i);
    const record = agent.latestDecision(ns, 'checkout');
    expect(text).toContain(`http://127.0.0.1:8080/decisions/${record?.id ?? 'none'}`);
    expect(text).toContain('rollguard_apply');
    expect(text).toContain('rollguard_dismiss');
    // Several more evaluations: the decision stays one message (edited, never posted again).
    await new Promise((r) => setTimeout(r, 8000));
    expect(fake.calls('chat.postMessage').filter((c) => JSON.stringify(c.body).includes('deployment/checkout '))).toHaveLength(1);
    expect(record?.state).toBe('open');
  }, 240_000);
});

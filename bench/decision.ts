// `npm run bench:decision`: how fast a human hears about a decision (R10), on the real control
// plane of ../shared/k8s: real Prometheus alerting a real Alertmanager, which notifies the agent's
// /alertmanager; the agent (policy mode suggest, so every regression is a human's decision) posts
// to a fake Slack on loopback. Per run, one clean deploy whose service then fails. Measured:
//   alert → message: Alertmanager's notification reaching the agent → the message reaching Slack;
//   onset → message: the 5xx share raised → the message.
// Baseline, same run: one chat.postMessage round trip from this process to the same fake Slack.
// Goal: alert → message ≤ 5 s at p95 (the source post allows 90 s).
//
//   npm run bench:decision   (add -- --runs N)

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { NotificationSinks } from '../src/agent/notification-sinks.js';
import { SecretValues } from '../src/agent/secret-values.js';
import { startAgentHttp } from '../src/agent/http.js';
import { KubeRest } from '../src/kube/rest.js';
import { deploymentManifest, rolledOut, setImage, startAgent } from '../test/support/agent-helpers.js';
import { startAlertmanager } from '../test/support/alertmanager.js';
import { adminControlPlane } from '../test/support/control-plane-admin.js';
import { ENABLE_HINT, launchControlPlane, locateControlPlane } from '../test/support/control-plane-launch.js';
import { FakeSlack } from '../test/support/fake-slack.js';
import { freePort } from '../test/support/process.js';
import { errorShareAlertRule } from '../test/support/prometheus-scrape.js';
import { startStack } from '../test/support/rollguard-stack.js';
import { waitFor } from '../test/support/wait.js';

const GOAL_S = 5;
const TOKEN = 'xoxb-bench-token';
const POLICY = `
default:
  mode: suggest
  metrics: { step: 1s, baseline: 5m }
  thresholds: { persistence: 3, minRequests: 100 }
  notifications:
    slack: { botToken: { name: rollguard-slack, key: token }, channel: "#deploys" }
`;

const say = (line: string) => process.stdout.write(`${line}\n`);
const runs = Math.max(2, Number(process.argv[process.argv.indexOf('--runs') + 1] ?? 8) || 8);

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? Number.NaN;
}

/** Between Alertmanager and the agent: notes when each alert's notification arrived, then forwards it. */
async function alertTap(target: () => string): Promise<{ url: string; firstFor: Map<string, number>; close(): Promise<void> }> {
  const firstFor = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        for (const a of (JSON.parse(body) as { alerts?: { status?: string; labels?: Record<string, string> }[] }).alerts ?? []) {
          const service = a.labels?.service;
          if (a.status === 'firing' && service !== undefined && !firstFor.has(service)) firstFor.set(service, at);
        }
      } catch {
        // forwarded as it is; the agent answers it
      }
      void fetch(target(), { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => {
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
      }, () => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/alertmanager`,
    firstFor,
    close: () => new Promise((resolve) => server.close(() => { resolve(); })),
  };
}

async function main(): Promise<void> {
  const located = locateControlPlane();
  if (!located.ok) {
    say(`skipped: no Kubernetes control plane (${located.reason}); to run it, ${ENABLE_HINT}`);
    return;
  }
  const launched = await launchControlPlane(located);
  const cleanups: (() => Promise<unknown>)[] = [() => launched.stop()];
  try {
    const slack = await new FakeSlack({ token: TOKEN, channels: ['#deploys'] }).start();
    cleanups.push(() => slack.stop());
    const agentPort = await freePort();
    const tap = await alertTap(() => `http://127.0.0.1:${String(agentPort)}/alertmanager`);
    cleanups.push(() => tap.close());
    const alertmanager = await startAlertmanager({ webhookUrl: tap.url });
    cleanups.push(() => alertmanager.stop());
    const services = Array.from({ length: runs }, (_, i) => `svc${String(i)}`);
    const stack = await startStack({
      prefix: 'bench-decision',
      controlPlane: adminControlPlane(launched.facts),
      services: [...services, 'n1', 'n2', 'n3'].map((service) => ({ service })),
      policy: POLICY,
      alerting: { rules: [errorShareAlertRule({ threshold: 0.05, windowSeconds: 5, forSeconds: 3 })], alertmanagers: [alertmanager.target] },
    });
    cleanups.push(() => stack.stop());
    await stack.admin.create(`/api/v1/namespaces/${stack.own}/secrets`, { metadata: { name: 'rollguard-slack' }, stringData: { token: TOKEN } });
    const logger = pino({ level: 'silent' });
    const kc = stack.agentKubeConfig();
    const notifications = new NotificationSinks({ policyFor: () => policyOf(), secrets: new SecretValues(new KubeRest(kc), stack.own), logger, slack: { apiBase: slack.apiBase } });
    // Only the alert makes the agent evaluate: a 10 min interval never comes round during a run.
    const agent = startAgent(stack, 'bench-decision', POLICY, { intervalMs: 10 * 60_000, sinks: [notifications] });
    const policyOf = () => agent.policyFor(stack.ns);
    await agent.start();
    cleanups.unshift(() => agent.stop());
    const http = await startAgentHttp(agent, logger, agentPort, '127.0.0.1');
    cleanups.unshift(() => http.close());
    await waitFor('the agent to lead', () => agent.lease.isLeader(), { timeoutMs: 30_000 });

    const baseline: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await fetch(`${slack.apiBase}/chat.postMessage`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ channel: '#deploys', text: 'baseline' }) });
      baseline.push((performance.now() - t) / 1000);
    }

    const alertToMessage: number[] = [];
    const onsetToMessage: number[] = [];
    for (const service of services) {
      const { ns } = stack;
      await stack.admin.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deploymentManifest(service, `shop/${service}:1`));
      await rolledOut(stack, ns, service, `shop/${service}:1`);
      await setImage(stack, ns, service, `shop/${service}:2`);
      await rolledOut(stack, ns, service, `shop/${service}:2`);
      const onset = Date.now();
      stack.exporter.set(ns, service, { errorShare: 0.2 });
      const message = await waitFor(`the Slack message for ${service}`, () => slack.calls('chat.postMessage').find((r) => JSON.stringify(r.body).includes(`deployment/${service} `)), { timeoutMs: 120_000, intervalMs: 50 });
      const alertAt = tap.firstFor.get(service);
      if (alertAt === undefined) throw new Error(`the message for ${service} came before any alert for it`);
      alertToMessage.push((message.at - alertAt) / 1000);
      onsetToMessage.push((message.at - onset) / 1000);
      say(`  ${service}: alert → message ${((message.at - alertAt) / 1000).toFixed(2)} s, onset → message ${((message.at - onset) / 1000).toFixed(2)} s`);
      stack.exporter.set(ns, service, { errorShare: 0.002 });
    }
    const base = quantile(baseline, 0.5);
    say(`\n${'measure'.padEnd(34)} p50       p95`);
    say(`  ${'alert → Slack message'.padEnd(32)} ${quantile(alertToMessage, 0.5).toFixed(2).padEnd(9)} ${quantile(alertToMessage, 0.95).toFixed(2)} s`);
    say(`  ${'onset → Slack message'.padEnd(32)} ${quantile(onsetToMessage, 0.5).toFixed(2).padEnd(9)} ${quantile(onsetToMessage, 0.95).toFixed(2)} s`);
    say(`  ${'baseline: one postMessage'.padEnd(32)} ${base.toFixed(3).padEnd(9)} ${quantile(baseline, 0.95).toFixed(3)} s`);
    const p95 = quantile(alertToMessage, 0.95);
    say(`ratio alert → message / one postMessage (p50): ${(quantile(alertToMessage, 0.5) / base).toFixed(1)}x`);
    say(`goal alert → message ≤ ${String(GOAL_S)} s at p95: ${p95 <= GOAL_S ? 'met' : 'NOT met'} (${(p95 / GOAL_S).toFixed(2)}x of the goal; the source post allows 90 s: ${(p95 / 90).toFixed(3)}x)`);
    process.exitCode = p95 <= GOAL_S ? 0 : 1;
  } finally {
    for (const c of cleanups) await c().catch(() => undefined);
  }
}

await main();

import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { startAgentHttp } from '../../src/agent/http.js';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import type { Deployment } from '../../src/core/kube.js';
import { paths } from '../../src/kube/rest.js';
import { afterDeployStep, deploymentManifest, offlineAgent, POLICY, rolledOut, setImage, startAgent } from '../support/agent-helpers.js';
import { startAlertmanager, type RunningAlertmanager } from '../support/alertmanager.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { freePort } from '../support/process.js';
import { errorShareAlertRule } from '../support/prometheus-scrape.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { waitFor } from '../support/wait.js';

// The Alertmanager path: POST /alertmanager starts an evaluation at once. End to end with a real
// Prometheus alert rule and a real Alertmanager whose webhook receiver is the agent, and an agent
// whose own interval (10 min) never comes round during the test, so only the alert can make it
// act; then what a malformed payload gets (F5).

const logger = pino({ level: 'silent' });

type Http = { port: number; close(): Promise<void> };

/** The value of one sample line of the Prometheus text format, 0 when the series is absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** The sum of every series of a metric family. */
function total(text: string, family: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${family}{`) || l.startsWith(`${family} `))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

async function metricsOf(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

describeWithControlPlane('R10 an Alertmanager notification makes the agent evaluate at once', () => {
  let alertmanager: RunningAlertmanager | undefined;
  let stack: Stack | undefined;
  let agent: Agent | undefined;
  let http: Http | undefined;

  beforeAll(async () => {
    // Alertmanager and Prometheus start before the agent exists: the agent's port is chosen first.
    const port = await freePort();
    alertmanager = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/alertmanager` });
    const s = await startStack({
      prefix: 'agent-alerts',
      services: ['checkout', 'orphan', 'n1', 'n2'].map((service) => ({ service })),
      policy: POLICY,
      // `for: 5s` as real rules have: by the time the alert fires, the breach has persisted.
      alerting: { rules: [errorShareAlertRule({ threshold: 0.05, windowSeconds: 5, forSeconds: 5 })], alertmanagers: [alertmanager.target] },
    });
    stack = s;
    const a = startAgent(s, 'alerts', POLICY, { intervalMs: 10 * 60_000 });
    agent = a;
    await a.start();
    http = await startAgentHttp(a, logger, port, '127.0.0.1');
    await waitFor('the agent to lead', () => a.lease.isLeader(), { timeoutMs: 30_000 });
  }, 240_000);

  afterAll(async () => {
    await http?.close();
    await agent?.stop();
    await stack?.stop();
    await alertmanager?.stop();
  }, 60_000);

  it('R10 a firing alert for namespace+service rolls the clean regression back, evaluating only when the alert asks and never after the rollback; an alert no Deployment matches is counted and ignored', async () => {
    if (stack === undefined || agent === undefined || http === undefined || alertmanager === undefined) throw new Error('the stack did not start');
    const { ns, admin } = stack;
    const a = agent;
    const port = http.port;
    const am = alertmanager;
    let lastMetrics = '';
    const logs = () => `latest decision: ${a.latestDecision(ns, 'checkout')?.decision.summary ?? 'none'}\nagent counters:\n${lastMetrics.split('\n').filter((l) => /^rollguard_agent_\w+_total\{/.test(l)).join('\n')}\nalertmanager log:\n${am.logTail()}\nprometheus log:\n${stack?.prometheus.logTail() ?? ''}`;

    await admin.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deploymentManifest('checkout', 'shop/checkout:1'));
    await rolledOut(stack, ns, 'checkout', 'shop/checkout:1');
    const deployedAt = await setImage(stack, ns, 'checkout', 'shop/checkout:2');
    await rolledOut(stack, ns, 'checkout', 'shop/checkout:2');
    expect(total(await metricsOf(port), 'rollguard_agent_evaluations_total')).toBe(0);

    await afterDeployStep(deployedAt);
    // orphan is a service with no Deployment: its alert matches nothing.
    stack.exporter.set(ns, 'checkout', { errorShare: 0.2 });
    stack.exporter.set(ns, 'orphan', { errorShare: 0.2 });
    const rolledBack = await waitFor('the alert to make the agent roll checkout back', async () => {
      lastMetrics = await metricsOf(port);
      const d = await admin.get<Deployment>(paths.deployment(ns, 'checkout'));
      return d.spec?.template?.spec?.containers?.[0]?.image === 'shop/checkout:1' ? d : undefined;
    }, { timeoutMs: 120_000, intervalMs: 250, detail: logs });
    expect(rolledBack.metadata?.annotations?.[ANNOTATIONS.rolledBackBy.key]).toBe('rollguard-agent (alerts)');
    // The patch's response can arrive after the watch has shown its effect.
    const record = await waitFor('the agent to record its rollback', () => {
      const r = a.latestDecision(ns, 'checkout');
      return r?.state === 'rolled-back' ? r : undefined;
    }, { timeoutMs: 30_000 });
    expect(record.decision.verdict).toBe('auto');
    expect(rolledBack.metadata?.annotations?.[ANNOTATIONS.decisionId.key]).toBe(record.id);

    const counted = await waitFor('the orphan alert to be counted', async () => {
      const text = await metricsOf(port);
      return sample(text, 'rollguard_agent_alerts_total{result="no-match"}') >= 1 ? text : undefined;
    }, { timeoutMs: 60_000, detail: logs });
    const counters = (text: string) => text.split('\n').filter((l) => /^rollguard_agent_(evaluations|alerts|rollbacks)_total\{/.test(l)).join('\n');
    expect(sample(counted, 'rollguard_agent_alerts_total{result="evaluated"}'), counters(counted)).toBe(1);
    expect(sample(counted, 'rollguard_agent_alerts_total{result="no-match"}'), counters(counted)).toBe(1);
    // Only the alert made the agent evaluate: the interval never ran, orphan's alert evaluated
    // nothing. The first evaluation rolls back when the data already shows the regression; on a
    // loaded machine the scrapes may land later, and the alert's follow-up evaluates every step
    // until they do, so more than one evaluation is allowed before the rollback, none after it.
    const atRollback = total(counted, 'rollguard_agent_evaluations_total');
    expect(atRollback, counters(counted)).toBeGreaterThanOrEqual(1);
    expect(sample(counted, 'rollguard_agent_evaluations_total{result="failed"}'), counters(counted)).toBe(0);
    expect(sample(counted, 'rollguard_agent_rollbacks_total{result="rolled-back"}'), counters(counted)).toBe(1);
    expect(a.decisions.list({ namespace: ns }).map((r) => r.deployment)).toEqual(['checkout']);

    stack.exporter.set(ns, 'checkout', { errorShare: 0.002 });
    stack.exporter.set(ns, 'orphan', { errorShare: 0.002 });
    const resolved = await waitFor('both resolutions to be counted', async () => {
      const text = await metricsOf(port);
      return sample(text, 'rollguard_agent_alerts_total{result="resolved"}') >= 2 ? text : undefined;
    }, { timeoutMs: 60_000, detail: logs });
    expect(sample(resolved, 'rollguard_agent_alerts_total{result="resolved"}')).toBe(2);
    // The rollback ended the follow-up: not one evaluation since, although the alert fired on.
    expect(total(resolved, 'rollguard_agent_evaluations_total'), counters(resolved)).toBe(atRollback);
  }, 240_000);
});

describe('F5 POST /alertmanager: a malformed notification gets a precise 4xx and changes nothing', () => {
  let agent: Agent;
  let http: Http;
  let url: string;

  beforeAll(async () => {
    agent = offlineAgent(logger);
    http = await startAgentHttp(agent, logger, 0, '127.0.0.1');
    url = `http://127.0.0.1:${http.port}/alertmanager`;
  });

  afterAll(async () => {
    await http.close();
  });

  const post = async (body: string | Uint8Array, contentType = 'application/json') => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
    return { status: res.status, body: (await res.json()) as { error?: string; accepted?: number; results?: { alert: string; matched: string[]; result: string }[] } };
  };
  const alert = (labels: Record<string, string>, status = 'firing') => ({ status, labels, annotations: {}, startsAt: '2025-01-01T00:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://127.0.0.1:9090/graph', fingerprint: 'f00' });
  const payload = (alerts: unknown[], version = '4') => JSON.stringify({ version, groupKey: '{}:{}', truncatedAlerts: 0, status: 'firing', receiver: 'rollguard', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://127.0.0.1:9093', alerts });
  const counter = async (result: string) => (await agent.metrics.alerts.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  const agentLeads = (leads: boolean) => {
    agent.lease.isLeader = () => leads;
  };

  it('F5 an alert without labels: 400 naming the field, counted as ignored', async () => {
    const before = await counter('ignored');
    const res = await post(payload([{ status: 'firing' }]));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^not an Alertmanager webhook payload \(version 4\): alerts\.0\.labels: /);
    expect(await counter('ignored')).toBe(before + 1);
  });

  it('F5 another payload version: 400 saying which version is expected', async () => {
    const res = await post(payload([], '3'));
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('version: version must be "4"');
  });

  it('F5 not JSON: 400, whatever the content type claims', async () => {
    for (const contentType of ['application/json', 'text/plain']) {
      const res = await post('{"version": "4", "alerts": [', contentType);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('body is not valid JSON; expected an Alertmanager webhook payload');
    }
  });

  it('F5 a body over 1 MiB: 413 with the limit', async () => {
    const big = payload([alert({ alertname: 'Big', namespace: 'shop', service: 'checkout', padding: 'x'.repeat(1024 * 1024) })]);
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('body larger than 1048576 bytes');
  });

  it('R10 a standby that knows no leader still accepts a valid notification (2xx, so Alertmanager counts no failure), says why and counts it', async () => {
    const failed = await counter('forward-failed');
    const res = await post(payload([alert({ alertname: 'Nobody', namespace: 'shop', service: 'checkout' })]));
    expect(res.status).toBe(202);
    expect((res.body as { message?: string }).message).toMatch(/^accepted by a standby, not evaluated at once: no replica holds the Lease now; the leader evaluates every deploy in its span each interval \(600s\) anyway$/);
    expect(await counter('forward-failed')).toBe(failed + 1);
  });

  it('F5 well-formed alerts that name no deploy: 200, each result says why it was not acted on', async () => {
    // This replica leads (in a cluster its Lease says so; here the test says so).
    agentLeads(true);
    const ignored = await counter('ignored');
    const resolved = await counter('resolved');
    const noMatch = await counter('no-match');
    const res = await post(
      payload([
        alert({ alertname: 'NoNamespace', service: 'checkout' }),
        alert({ alertname: 'Over', namespace: 'shop', service: 'checkout' }, 'resolved'),
        alert({ alertname: 'Nobody', namespace: 'shop', service: 'nobody' }),
      ]),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      accepted: 0,
      results: [
        { alert: 'NoNamespace', matched: [], result: 'ignored' },
        { alert: 'Over', matched: [], result: 'resolved' },
        { alert: 'Nobody', matched: [], result: 'no Deployment matches' },
      ],
    });
    expect([await counter('ignored'), await counter('resolved'), await counter('no-match')]).toEqual([ignored + 1, resolved + 1, noMatch + 1]);
    const health = await fetch(`http://127.0.0.1:${http.port}/healthz`);
    expect(health.status).toBe(200);
  });

  it('F5 a compressed notification (the body parser’s path) is answered as the plain one (the node:http path), case by case', async () => {
    agentLeads(true);
    const cases = ['', '"just a string"', '{"version": "4", "alerts": [', payload([{ status: 'firing' }]), payload([alert({ alertname: 'Nobody', namespace: 'shop', service: 'nobody' })])];
    for (const body of cases) {
      const plain = await post(body);
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(body) });
      expect({ status: res.status, body: await res.json() }, body).toEqual(plain);
      expect(plain.status, body).toBe(body.includes('Nobody') ? 200 : 400);
    }
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import type { Deployment } from '../../src/core/kube.js';
import { paths } from '../../src/kube/rest.js';
import { agentProcessArgs, deployedTwice, POLICY } from '../support/agent-helpers.js';
import { startAlertmanager, type RunningAlertmanager } from '../support/alertmanager.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { freePort, httpOk, type ManagedProcess } from '../support/process.js';
import { errorShareAlertRule } from '../support/prometheus-scrape.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { waitFor } from '../support/wait.js';

// R10 with two agent processes (the chart's two replicas) on the real control plane, each with a
// 10 min interval that never comes round during the test, so only an alert (and its follow-up every
// step while it fires) can make the leader evaluate. One alert POSTed to the standby alone makes the
// leader roll back; and a real
// Alertmanager whose receiver names both agents counts no failed notification while one of them
// is a standby.
//
// The alert rule fires above a 50 % 5xx share: `fwd` fails at 20 % (a regression for the agent,
// no alert), so only the test's own POST to the standby can reach the leader for it; `am` fails at
// 80 % and alerts through Prometheus and Alertmanager.

/** The sum of every series of a metric family whose labels contain `match`. */
function total(text: string, family: string, match = ''): number {
  return text
    .split('\n')
    .filter((l) => (l.startsWith(`${family}{`) || l.startsWith(`${family} `)) && l.includes(match))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

async function text(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.text();
}

describeWithControlPlane('R10 alerts are accepted by every replica; the leader evaluates the ones a standby receives', () => {
  let stack: Stack | undefined;
  let alertmanager: RunningAlertmanager | undefined;
  const agents: { id: string; port: number; p: ManagedProcess }[] = [];

  beforeAll(async () => {
    const ports = [await freePort(), await freePort()];
    alertmanager = await startAlertmanager({ webhookUrl: ports.map((p) => `http://127.0.0.1:${String(p)}/alertmanager`) });
    const s = await startStack({
      prefix: 'agent-alerts-ha',
      services: ['fwd', 'am', 'n1', 'n2'].map((service) => ({ service })),
      policy: POLICY,
      alerting: { rules: [errorShareAlertRule({ threshold: 0.5, windowSeconds: 5, forSeconds: 5 })], alertmanagers: [alertmanager.target] },
    });
    stack = s;
    for (const [i, port] of ports.entries()) {
      const id = `replica-${String(i)}`;
      const args = agentProcessArgs(s, id, port, { interval: '10m' });
      // One replica finds its URL from POD_IP as in the chart, the other falls back to loopback.
      const p = await s.startCli(`agent-${id}`, args, () => httpOk(`http://127.0.0.1:${String(port)}/readyz`), i === 0 ? { POD_IP: '127.0.0.1' } : {});
      agents.push({ id, port, p });
    }
  }, 240_000);

  afterAll(async () => {
    for (const a of agents) await a.p.stop(5000);
    await stack?.stop();
    await alertmanager?.stop();
  }, 60_000);

  function need(): Stack {
    if (stack === undefined) throw new Error('the stack did not start');
    return stack;
  }

  /** The replica holding the Lease, once the Lease names one of them and carries its URL. */
  async function roles(): Promise<{ leader: (typeof agents)[number]; standby: (typeof agents)[number] }> {
    const s = need();
    return waitFor('one replica to lead and advertise its URL', async () => {
      const lease = await s.admin.get<{ metadata: { annotations?: Record<string, string> }; spec?: { holderIdentity?: string } }>(paths.lease(s.own, 'rollguard-agent'));
      const leader = agents.find((a) => a.id === lease.spec?.holderIdentity);
      const standby = agents.find((a) => a !== leader);
      if (leader === undefined || standby === undefined) return undefined;
      expect(lease.metadata.annotations?.[ANNOTATIONS.agentUrl.key]).toBe(`http://127.0.0.1:${String(leader.port)}`);
      return { leader, standby };
    }, { timeoutMs: 30_000 });
  }

  async function regress(name: string, errorShare: number): Promise<void> {
    const s = need();
    await deployedTwice(s, name);
    s.exporter.set(s.ns, name, { errorShare });
  }

  async function rolledBack(name: string, detail: () => string): Promise<Deployment> {
    const s = need();
    return waitFor(`${name} to be rolled back`, async () => {
      const d = await s.admin.get<Deployment>(paths.deployment(s.ns, name));
      return d.spec?.template?.spec?.containers?.[0]?.image === `shop/${name}:1` ? d : undefined;
    }, { timeoutMs: 120_000, intervalMs: 250, detail });
  }

  it('R10 one alert POSTed to the standby only: 200 naming the leader, and the leader, following it up every step while it fires, rolls back (its interval never ran)', async () => {
    const s = need();
    const { leader, standby } = await roles();
    await regress('fwd', 0.2);
    const alert = JSON.stringify({ version: '4', status: 'firing', receiver: 'rollguard', alerts: [{ status: 'firing', labels: { alertname: 'HighErrorShare', namespace: s.ns, service: 'fwd' }, startsAt: new Date().toISOString() }] });
    // Sent once, before the regression has persisted long enough to act on (Alertmanager's next
    // notification of a firing group may be hours away): the leader must keep evaluating.
    const res = await fetch(`http://127.0.0.1:${String(standby.port)}/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: alert });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ forwardedTo: leader.id, url: `http://127.0.0.1:${String(leader.port)}`, accepted: 1, results: [{ alert: 'HighErrorShare', matched: ['fwd'], result: 'evaluating' }] });
    const d = await rolledBack('fwd', () => `leader log:\n${leader.p.logTail()}`);
    expect(d.metadata?.annotations?.[ANNOTATIONS.rolledBackBy.key]).toBe(`rollguard-agent (${leader.id})`);
    const standbyMetrics = await text(`http://127.0.0.1:${String(standby.port)}/metrics`);
    const leaderMetrics = await text(`http://127.0.0.1:${String(leader.port)}/metrics`);
    expect(total(standbyMetrics, 'rollguard_agent_alerts_total', 'result="forwarded"')).toBe(1);
    expect(total(standbyMetrics, 'rollguard_agent_evaluations_total')).toBe(0);
    expect(total(leaderMetrics, 'rollguard_agent_alerts_total', 'result="evaluated"')).toBe(1);
    // The one alert, then its follow-ups: more than one evaluation, and one rollback.
    expect(total(leaderMetrics, 'rollguard_agent_evaluations_total')).toBeGreaterThan(1);
    expect(total(leaderMetrics, 'rollguard_agent_rollbacks_total', 'result="rolled-back"')).toBe(1);
    expect(leader.p.logTail()).toContain('alert received: evaluating the Deployments it names');
    s.exporter.set(s.ns, 'fwd', { errorShare: 0.002 });
  }, 240_000);

  it('R10 a real Alertmanager notifying both replicas: no failed notification while one is a standby, and the leader rolls back', async () => {
    const s = need();
    const am = alertmanager;
    if (am === undefined) throw new Error('no Alertmanager');
    const { leader, standby } = await roles();
    const webhook = async () => {
      const m = await text(`${am.url}/metrics`);
      return { sent: total(m, 'alertmanager_notifications_total', 'integration="webhook"'), failed: total(m, 'alertmanager_notifications_failed_total', 'integration="webhook"') };
    };
    await regress('am', 0.8);
    const d = await rolledBack('am', () => `alertmanager log:\n${am.logTail()}\nleader log:\n${leader.p.logTail()}\nstandby log:\n${standby.p.logTail()}`);
    expect(d.metadata?.annotations?.[ANNOTATIONS.rolledBackBy.key]).toBe(`rollguard-agent (${leader.id})`);
    s.exporter.set(s.ns, 'am', { errorShare: 0.002 });
    // The firing and the resolved notification, each to both replicas.
    const counts = await waitFor('Alertmanager to send the firing and resolved notifications to both replicas', async () => {
      const c = await webhook();
      return c.sent >= 4 ? c : undefined;
    }, { timeoutMs: 60_000, detail: () => am.logTail() });
    expect(counts.failed).toBe(0);
    const standbyMetrics = await text(`http://127.0.0.1:${String(standby.port)}/metrics`);
    expect(total(standbyMetrics, 'rollguard_agent_alerts_total', 'result="forwarded"')).toBeGreaterThanOrEqual(2);
    expect(total(standbyMetrics, 'rollguard_agent_alerts_total', 'result="forward-failed"')).toBe(0);
    // The roles held throughout.
    expect((await roles()).leader.id).toBe(leader.id);
  }, 240_000);
});

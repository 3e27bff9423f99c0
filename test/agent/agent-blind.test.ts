import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import type { Policy } from '../../src/core/policy.js';
import { paths } from '../../src/kube/rest.js';
import { PrometheusSource } from '../../src/metrics/prometheus.js';
import { startAgent } from '../support/agent-helpers.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { capturedLogger } from '../support/log-capture.js';
import { freePort } from '../support/process.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { waitFor } from '../support/wait.js';

// The most likely install mistake, a wrong Prometheus URL, must be loud from the start, not at the
// first incident: one log line when it breaks and one when it recovers (not one per probe), the
// gauge and failures_total, /readyz naming it while staying ready, and an Event in rollguard's
// namespace; the recovery is told the same way.

interface EventList {
  items: { reason: string; message: string; involvedObject: { kind: string } }[];
}

describeWithControlPlane('F1 a Prometheus the agent cannot reach is loud', () => {
  let stack: Stack;
  let agent: Agent;
  let url = '';
  const { logger, lines } = capturedLogger();

  beforeAll(async () => {
    stack = await startStack({ prefix: 'blind', services: [{ service: 'checkout' }] });
    url = `http://127.0.0.1:${await freePort()}`;
    agent = startAgent(stack, 'blind-agent', undefined, {
      logger,
      probeIntervalMs: 500,
      // The URL is read at each call, so the test can mend it as an operator would.
      sourceFor: (policy: Policy) => new PrometheusSource({ url, metrics: policy.metrics }),
    });
    await agent.start();
    await waitFor('the agent to lead', () => agent.lease.isLeader() || undefined, { timeoutMs: 30_000 });
  }, 240_000);

  afterAll(async () => {
    await agent.stop();
    await stack.stop();
  });

  const events = async () => (await stack.admin.get<EventList>(paths.events(stack.own))).items.filter((e) => e.involvedObject.kind === 'Lease');
  const failingLines = () => lines.filter((l) => l.includes('Prometheus is failing'));

  it('says so once, counts every failure, stays ready naming it, writes an Event; and tells the recovery once', async () => {
    await waitFor('several failed probes', () => (failingLines().length === 1 && agent.health.get('prometheus')?.up === false ? true : undefined), { timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 2000));
    expect(failingLines()).toHaveLength(1);
    expect(failingLines()[0]).toMatch(/ECONNREFUSED/);
    const metrics = await agent.metrics.registry.metrics();
    expect(metrics).toMatch(/rollguard_agent_dependency_up\{dependency="prometheus"\} 0/);
    expect(metrics).toMatch(/rollguard_agent_dependency_up\{dependency="apiserver"\} 1/);
    const failures = Number(/rollguard_agent_failures_total\{kind="metrics"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    expect(failures).toBeGreaterThanOrEqual(3);
    const ready = agent.readiness();
    expect(ready.ready).toBe(true);
    expect(ready.reason).toMatch(/; failing: Prometheus failing since \d{4}-\d\d-\d\dT[\d:.]+Z: Prometheus unreachable at http:\/\/127\.0\.0\.1:\d+/);
    await waitFor('the DependencyFailing Event', async () => ((await events()).some((e) => e.reason === 'DependencyFailing') ? true : undefined), { timeoutMs: 10_000 });
    expect((await events()).find((e) => e.reason === 'DependencyFailing')?.message).toMatch(/^rollguard cannot reach Prometheus: /);

    url = stack.prometheus.url;
    await waitFor('the recovery', () => (agent.health.get('prometheus')?.up === true ? true : undefined), { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(lines.filter((l) => l.includes('Prometheus is reachable again'))).toHaveLength(1);
    expect(await agent.metrics.registry.metrics()).toMatch(/rollguard_agent_dependency_up\{dependency="prometheus"\} 1/);
    expect(agent.readiness().reason).not.toMatch(/failing/);
    await waitFor('the DependencyRecovered Event', async () => ((await events()).some((e) => e.reason === 'DependencyRecovered') ? true : undefined), { timeoutMs: 10_000 });
  }, 120_000);
});

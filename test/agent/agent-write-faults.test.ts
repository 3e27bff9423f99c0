import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { decisionPaths } from '../../src/agent/decision-crd.js';
import { fromObject } from '../../src/agent/decision-object.js';
import type { RollbackDecisionObject } from '../../src/agent/decision-object.js';
import type { Policy } from '../../src/core/policy.js';
import { KubeApiError, paths } from '../../src/kube/rest.js';
import { PrometheusSource } from '../../src/metrics/prometheus.js';
import type { MetricSource } from '../../src/metrics/source.js';
import { deployThenRegress, POLICY, startAgent } from '../support/agent-helpers.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { waitFor } from '../support/wait.js';

// F4 two faults the randomized fault schedules (npm run harden, part 5) found in the agent, each
// reproduced here on the real control plane: a write that fails while a decision is recorded (the
// apiserver away, a connection cut) ended the process, and a leader whose evaluation outlived its
// renew deadline (a slow Prometheus or apiserver) still wrote what it found.

describeWithControlPlane('F4 the agent through failing writes and a lapsed Lease', () => {
  let stack: Stack | undefined;
  const agents: Agent[] = [];

  beforeAll(async () => {
    stack = await startStack({ prefix: 'agent-wf', services: [{ service: 'wf' }, { service: 'fe' }], policy: POLICY });
  }, 180_000);

  afterAll(async () => {
    for (const a of agents) await a.stop();
    await stack?.stop();
  }, 60_000);

  function need(): Stack {
    if (stack === undefined) throw new Error('no stack');
    return stack;
  }

  async function leading(identity: string, overrides: Parameters<typeof startAgent>[3] = {}): Promise<Agent> {
    const s = need();
    for (const a of agents.splice(0)) await a.stop();
    const agent = startAgent(s, identity, POLICY, overrides);
    agents.push(agent);
    await agent.start();
    await waitFor(`${identity} to lead`, () => agent.lease.isLeader(), { timeoutMs: 30_000 });
    return agent;
  }

  const decisionsFor = async (name: string) => {
    const s = need();
    const list = await s.admin.get<{ items: RollbackDecisionObject[] }>(decisionPaths.collection(s.own));
    return list.items.map(fromObject).filter((r) => r?.deployment === name).length;
  };

  it('F4 a decision write that fails (the apiserver unreachable) fails that evaluation, and the agent lives on to record it', async () => {
    const s = need();
    const agent = await leading('wf-agent');
    await deployThenRegress(s, 'wf');
    const record = agent.decisions.record.bind(agent.decisions);
    let refused = 0;
    agent.decisions.record = () => {
      refused++;
      return Promise.reject(new KubeApiError(0, 'Unreachable', 'cannot reach the API server at https://127.0.0.1:1: socket hang up'));
    };
    const outcome = await waitFor('an evaluation whose decision write fails', async () => {
      const o = await agent.evaluate(s.ns, 'wf');
      return o.result === 'failed' ? o : undefined;
    }, { timeoutMs: 90_000 });
    expect(outcome).toEqual({ key: `${s.ns}/wf`, result: 'failed' });
    expect(refused).toBeGreaterThan(0);
    agent.decisions.record = record;
    let last = outcome;
    let count = 0;
    await waitFor('the decision recorded once writes go through again', async () => {
      last = await agent.evaluate(s.ns, 'wf');
      count = await decisionsFor('wf');
      return count >= 1;
    }, { timeoutMs: 60_000, detail: () => `last evaluation: ${JSON.stringify(last)}; decisions: ${String(count)}; in the agent: ${JSON.stringify(agent.decisions.list({ namespace: s.ns }).map((r) => [r.deployment, r.state]))}` });
  }, 240_000);

  it('F4 a leader whose Lease lapses while it evaluates writes nothing of what it found', async () => {
    const s = need();
    let hold: Promise<void> | undefined;
    let release = (): void => undefined;
    let entered = (): void => undefined;
    const inside = new Promise<void>((resolve) => { entered = resolve; });
    const sourceFor = (policy: Policy): MetricSource => {
      const inner = new PrometheusSource({ url: s.prometheus.url, metrics: policy.metrics });
      const held = Object.create(inner) as MetricSource;
      held.rangeQuery = async (q) => {
        if (hold !== undefined) {
          entered();
          await hold;
        }
        return inner.rangeQuery(q);
      };
      return held;
    };
    // Only this test's calls evaluate: the interval never comes round.
    const agent = await leading('fence-agent', { sourceFor, intervalMs: 10 * 60_000 });
    await deployThenRegress(s, 'fe');
    await new Promise((r) => setTimeout(r, 8000));
    hold = new Promise<void>((resolve) => { release = resolve; });
    const evaluation = agent.evaluate(s.ns, 'fe');
    await inside;
    try {
      // Another replica takes the Lease over meanwhile; the leader renews every second, so a write
      // between our read and our update is a conflict to read again after, as a replica would.
      await waitFor('the Lease taken over by another replica', async () => {
        const lease = await s.admin.get<{ spec: Record<string, unknown> }>(paths.lease(s.own, 'rollguard-agent'));
        const now = new Date().toISOString().replace(/Z$/, '000Z');
        await s.admin.update(paths.lease(s.own, 'rollguard-agent'), { ...lease, spec: { ...lease.spec, holderIdentity: 'another-replica', leaseDurationSeconds: 120, renewTime: now, acquireTime: now } });
        return true;
      }, { timeoutMs: 10_000, intervalMs: 50 });
      await waitFor('the agent to see it no longer leads', () => !agent.lease.isLeader(), { timeoutMs: 20_000 });
    } finally {
      hold = undefined;
      release();
    }
    expect(await evaluation).toEqual({ key: `${s.ns}/fe`, result: 'not-leader' });
    expect(await decisionsFor('fe')).toBe(0);
  }, 240_000);
});

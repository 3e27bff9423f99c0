import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { performRollback } from '../../src/agent/rollback.js';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import type { Deployment, ReplicaSet } from '../../src/core/kube.js';
import { KubeRest, paths } from '../../src/kube/rest.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { freePort, httpOk, type ManagedProcess } from '../support/process.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { waitFor } from '../support/wait.js';
import { agentProcessArgs, deployedTwice, POLICY, startAgent } from '../support/agent-helpers.js';

// F4 exactly one rollback, proven by faults on the real control plane: two agents at once, an
// agent killed between deciding and patching and between patching and its Event, a leader paused
// (SIGSTOP) between deciding and patching while another takes the Lease over, and a human edit
// between the decision and the patch.

const SERVICES = ['two', 'k1', 'k2', 'st', 'he', 'payments', 'search', 'cart', 'two-r1', 'k1-r1', 'k2-r1', 'st-r1'];

/**
 * The process-level fault tests are retried once (see their `retry`): each attempt needs a
 * Deployment (and a service with pre-deploy history) of its own.
 */
const attempts = new Map<string, number>();
function attemptName(base: string): string {
  const n = attempts.get(base) ?? 0;
  attempts.set(base, n + 1);
  return n === 0 ? base : `${base}-r${String(n)}`;
}

describeWithControlPlane('F4 exactly one rollback, whatever fails', () => {
  let stack: Stack | undefined;
  const agents: Agent[] = [];
  const processes: ManagedProcess[] = [];

  beforeAll(async () => {
    stack = await startStack({ prefix: 'agent-f4', services: SERVICES.map((service) => ({ service })), policy: POLICY });
  }, 180_000);

  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    for (const p of processes.splice(0)) {
      if (p.running()) process.kill(p.pid, 'SIGCONT');
      await p.stop(5000);
    }
    for (const s of SERVICES) stack?.exporter.set(stack.ns, s, { errorShare: 0.002 });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  function need(): Stack {
    if (stack === undefined) throw new Error('no stack');
    return stack;
  }

  async function agentProcess(id: string, env: NodeJS.ProcessEnv = {}): Promise<ManagedProcess> {
    const s = need();
    const port = await freePort();
    const args = agentProcessArgs(s, id, port);
    const p = await s.startCli(`agent-${id}`, args, () => httpOk(`http://127.0.0.1:${port}/readyz`), env);
    processes.push(p);
    ports.set(p, port);
    return p;
  }

  const ports = new Map<ManagedProcess, number>();
  /** What a process agent has decided, for the error when it does not act. */
  async function decisionsOf(p: ManagedProcess): Promise<string> {
    try {
      const body = (await (await fetch(`http://127.0.0.1:${String(ports.get(p) ?? 0)}/decisions`)).json()) as { decisions: { deployment: string; verdict: string; summary: string; notes: string[] }[] };
      return body.decisions.map((d) => `${d.deployment}: ${d.summary} | ${d.notes.join(' | ')}`).join('\n') || 'no decisions';
    } catch (err) {
      return `decisions unavailable: ${String(err)}`;
    }
  }

  /** A Deployment at revision 2 after a clean deploy, with its service starting to fail. */
  async function deployAndRegress(name: string, regress = true): Promise<void> {
    const s = need();
    await deployedTwice(s, name);
    if (regress) s.exporter.set(s.ns, name, { errorShare: 0.2 });
  }

  async function current(name: string): Promise<Deployment> {
    const s = need();
    return s.admin.get<Deployment>(paths.deployment(s.ns, name));
  }

  async function rolledBackEvents(name: string): Promise<number> {
    const s = need();
    const events = await s.admin.get<{ items: { reason: string }[] }>(`${paths.events(s.ns)}?fieldSelector=involvedObject.name=${name}`);
    return events.items.filter((e) => e.reason === 'RolledBack').length;
  }

  const imageOf = (d: Deployment) => d.spec?.template?.spec?.containers?.[0]?.image;
  const revision = (d: Deployment) => d.metadata?.annotations?.['deployment.kubernetes.io/revision'];

  async function waitRolledBack(name: string, detail?: () => string): Promise<Deployment> {
    return waitFor(`deployment ${name} to be rolled back`, async () => {
      const d = await current(name);
      return imageOf(d) === `shop/${name}:1` ? d : undefined;
    }, { timeoutMs: 60_000, ...(detail === undefined ? {} : { detail }) });
  }

  /** What each in-process agent last decided about a Deployment, for a timeout's message. */
  const inProcessDecisions = (name: string, ...agents: Agent[]) => () =>
    agents.map((agent, i) => {
      const r = agent.latestDecision(need().ns, name);
      return `agent ${String(i)} (leader: ${String(agent.lease.isLeader())}): ${r === undefined ? 'no decision' : `${r.state}: ${r.decision.summary} | ${r.decision.notes.join(' | ')}`}`;
    }).join('\n');

  /** Several more evaluation cycles with the errors still high: nothing else may happen. */
  async function staysRolledBackOnce(name: string, by: RegExp): Promise<void> {
    await new Promise((r) => setTimeout(r, 5000));
    const d = await current(name);
    expect(imageOf(d)).toBe(`shop/${name}:1`);
    expect(revision(d)).toBe('3');
    expect(d.metadata?.annotations?.[ANNOTATIONS.rolledBackBy.key]).toMatch(by);
    expect(await waitFor(`one RolledBack Event for ${name}`, async () => ((await rolledBackEvents(name)) >= 1 ? rolledBackEvents(name) : undefined), { timeoutMs: 20_000 })).toBe(1);
  }

  it('F4 two agents at once: one acts, one rollback', { timeout: 180_000, retry: 1 }, async () => {
    const s = need();
    const name = attemptName('two');
    const a = startAgent(s, 'agent-a');
    const b = startAgent(s, 'agent-b');
    agents.push(a, b);
    await Promise.all([a.start(), b.start()]);
    await waitFor('one of two agents to lead', () => a.lease.isLeader() || b.lease.isLeader(), { timeoutMs: 20_000 });
    expect(a.lease.isLeader() && b.lease.isLeader()).toBe(false);
    await deployAndRegress(name);
    await waitRolledBack(name, inProcessDecisions(name, a, b));
    await staysRolledBackOnce(name, /^rollguard-agent \(agent-[ab]\)$/);
    const total = async (agent: Agent) => (await agent.metrics.rollbacks.get()).values.filter((v) => v.labels.result === 'rolled-back').reduce((n, v) => n + v.value, 0);
    expect((await total(a)) + (await total(b))).toBe(1);
  });

  it('F4 killed after deciding, before the patch: the restarted agent rolls back once', { timeout: 180_000, retry: 1 }, async () => {
    const name = attemptName('k1');
    const doomed = await agentProcess('kill-1', { ROLLGUARD_AGENT_FAULT: 'kill-after-decide' });
    await deployAndRegress(name);
    await waitFor('the agent to die at the fault point', () => !doomed.running(), { timeoutMs: 120_000 }).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\nagent log:\n${doomed.logTail()}\ndecisions:\n${await decisionsOf(doomed)}`);
    });
    expect(imageOf(await current(name))).toBe(`shop/${name}:2`);
    await agentProcess('kill-1-restarted');
    await waitRolledBack(name);
    await staysRolledBackOnce(name, /^rollguard-agent \(kill-1-restarted\)$/);
  });

  it('F4 killed after the patch, before its Event: the restarted agent writes the Event and does not roll back again', { timeout: 180_000, retry: 1 }, async () => {
    const name = attemptName('k2');
    const doomed = await agentProcess('kill-2', { ROLLGUARD_AGENT_FAULT: 'kill-after-patch' });
    await deployAndRegress(name);
    await waitFor('the agent to die at the fault point', () => !doomed.running(), { timeoutMs: 120_000 });
    const d = await current(name);
    expect(imageOf(d)).toBe(`shop/${name}:1`);
    expect(await rolledBackEvents(name)).toBe(0);
    await agentProcess('kill-2-restarted');
    await staysRolledBackOnce(name, /^rollguard-agent \(kill-2\)$/);
    expect((await current(name)).metadata?.annotations?.[ANNOTATIONS.decisionId.key]).toBe(d.metadata?.annotations?.[ANNOTATIONS.decisionId.key]);
  });

  it('F4 a leader paused between deciding and patching loses the Lease, and its late write is never sent', { timeout: 180_000, retry: 1 }, async () => {
    const name = attemptName('st');
    const s = need();
    const paused = await agentProcess('paused', { ROLLGUARD_AGENT_FAULT: 'stop-after-decide' });
    await waitFor('the process agent to lead', async () => (await s.admin.get<{ spec?: { holderIdentity?: string } }>(paths.lease(s.own, 'rollguard-agent'))).spec?.holderIdentity === 'paused', { timeoutMs: 30_000 });
    const standby = startAgent(s, 'standby');
    agents.push(standby);
    await standby.start();
    await deployAndRegress(name);
    const stat = async () => (await readFile(`/proc/${paused.pid}/stat`, 'utf8')).split(' ')[2];
    await waitFor('the leader to stop itself at the fault point', async () => (await stat()) === 'T', { timeoutMs: 60_000 }).catch(async (err: unknown) => {
      throw new Error(`${String(err)}\nagent log:\n${paused.logTail()}\ndecisions:\n${await decisionsOf(paused)}`);
    });
    await waitRolledBack(name);
    expect((await current(name)).metadata?.annotations?.[ANNOTATIONS.rolledBackBy.key]).toBe('rollguard-agent (standby)');
    process.kill(paused.pid, 'SIGCONT');
    // Fenced where it is sent (fenced-rest.ts): the patch does not reach the apiserver at all.
    await waitFor('the resumed agent to report its unsent write', () => /"result":"not-leader".*no longer certainly holds the Lease/.test(paused.logTail()) || undefined, { timeoutMs: 20_000 });
    expect(paused.logTail()).not.toMatch(/"msg":"rolled back"/);
    await staysRolledBackOnce(name, /^rollguard-agent \(standby\)$/);
  });

  it('F4 a human edit between the decision and the patch: no rollback on stale state', async () => {
    const s = need();
    await deployAndRegress('he', false);
    const decidedOn = await current('he');
    await s.admin.patch(paths.deployment(s.ns, 'he'), 'merge', { metadata: { annotations: { 'example.com/edited-by': 'a human' } } });
    const replicaSets = (await s.admin.get<{ items: ReplicaSet[] }>(paths.replicaSets(s.ns))).items;
    const outcome = await performRollback({
      rest: new KubeRest(s.agentKubeConfig()),
      deployment: decidedOn,
      replicaSets,
      decisionId: 'stale-test',
      toRevision: 1,
      by: 'rollguard-agent (test)',
      reason: 'test',
      blackoutMs: 600_000,
      now: Date.now(),
    });
    expect(outcome.result).toBe('stale');
    const d = await current('he');
    expect(imageOf(d)).toBe('shop/he:2');
    expect(d.metadata?.annotations?.[ANNOTATIONS.decisionId.key]).toBeUndefined();
  }, 120_000);

  it('F4 SIGTERM: the agent finishes what runs and releases its Lease, so a standby takes over at once', async () => {
    const s = need();
    const p = await agentProcess('terminated');
    const holder = async () => (await s.admin.get<{ spec?: { holderIdentity?: string | null } }>(paths.lease(s.own, 'rollguard-agent'))).spec?.holderIdentity;
    await waitFor('the process agent to hold the Lease', async () => (await holder()) === 'terminated', { timeoutMs: 30_000 });
    await p.stop(20_000);
    expect(p.logTail()).toMatch(/"msg":"released the lease"/);
    expect(await holder()).toBeFalsy();
  }, 120_000);
});

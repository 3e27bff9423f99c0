import { writeFile } from 'node:fs/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { startAgentHttp } from '../../src/agent/http.js';
import { NotificationSinks } from '../../src/agent/notification-sinks.js';
import { SecretValues } from '../../src/agent/secret-values.js';
import { slackSignature } from '../../src/agent/slack/verify.js';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import type { Deployment } from '../../src/core/kube.js';
import { KubeRest, paths } from '../../src/kube/rest.js';
import { agentProcessArgs, deployThenRegress, startAgent } from '../support/agent-helpers.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { FakeSlack } from '../support/fake-slack.js';
import { grantApplyButton, person, type Person } from '../support/people.js';
import { freePort, httpOk, type ManagedProcess } from '../support/process.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

// R10 F4 high availability: two agents on one Lease, as the chart runs them. Every replica answers
// every decision route from the same RollbackDecision objects, Apply through either keeps every
// guarantee and gives one rollback, and the leader's kill -9, a restart and a rolling restart lose
// nothing: same ids, one Slack message per decision (edited, never posted again), the dismissal kept.

const TOKEN = 'xoxb-ha-token';
const SIGNING = 'ha-signing-secret';
const BASE = `
default:
  mode: suggest
  metrics: { step: 1s, baseline: 5m }
  thresholds: { persistence: 3, minRequests: 100 }
`;
const policyFor = (alice: Person) => `${BASE}  notifications:
    pageUrl: http://127.0.0.1:8080
    slack: { botToken: { name: rollguard-slack, key: token }, signingSecret: { name: rollguard-slack, key: signing }, channel: "#deploys" }
    slackUsers: { U0ALICE: { user: "${alice.user}" } }
`;

const logger = pino({ level: process.env.ROLLGUARD_TEST_LOG ?? 'silent' });

interface Replica {
  agent: Agent;
  base: string;
  sinks: NotificationSinks;
  close(): Promise<void>;
}

type DecisionJson = { id: string; state: string; stateReason: string | null; deployment: string; verdict: string };

describeWithControlPlane('R10 F4 every replica serves the person, and no decision is lost when one dies', () => {
  let stack: Stack | undefined;
  let slack: FakeSlack | undefined;
  let receiver: WebhookReceiver | undefined;
  let alice: Person;
  let bob: Person;
  let policy = BASE;
  const replicas: Replica[] = [];
  const processes: ManagedProcess[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    slack = await new FakeSlack({ token: TOKEN, channels: ['#deploys'] }).start();
    receiver = await startWebhookReceiver();
    const s = await startStack({ prefix: 'agent-ha', services: ['pay', 'web', 'api', 'k1', 'k2', 'k3'].map((service) => ({ service })), policy: BASE });
    stack = s;
    cleanups.push(await grantApplyButton(s));
    [alice, bob] = await Promise.all([person(s, 'alice', 'edit'), person(s, 'bob', 'view')]);
    policy = policyFor(alice);
    await writeFile(s.policyPath, policy);
    await s.admin.create(`/api/v1/namespaces/${s.own}/secrets`, { metadata: { name: 'rollguard-slack' }, stringData: { token: TOKEN, signing: SIGNING } });
    for (const id of ['ha-a', 'ha-b']) replicas.push(await replica(s, id));
    await replicas[0]?.agent.start();
    await waitFor('ha-a to lead', () => replicas[0]?.agent.lease.isLeader(), { timeoutMs: 30_000 });
    await replicas[1]?.agent.start();
  }, 240_000);

  afterAll(async () => {
    for (const r of replicas) await r.close();
    for (const p of processes) await p.stop(5000);
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await stack?.stop();
    await receiver?.stop();
    await slack?.stop();
  }, 60_000);

  async function replica(s: Stack, identity: string): Promise<Replica> {
    const ref: { agent?: Agent } = {};
    const sinks = new NotificationSinks({ policyFor: (ns) => {
      if (ref.agent === undefined) throw new Error('agent not built');
      return ref.agent.policyFor(ns);
    }, secrets: new SecretValues(new KubeRest(s.agentKubeConfig()), s.own), logger, slack: { apiBase: slack?.apiBase ?? '' } });
    const agent = startAgent(s, identity, policy, { sinks: [sinks], secrets: new SecretValues(new KubeRest(s.agentKubeConfig()), s.own), slackResponseOrigin: new URL(receiver?.url ?? 'http://127.0.0.1').origin });
    ref.agent = agent;
    const http = await startAgentHttp(agent, logger, 0, '127.0.0.1');
    return {
      agent,
      sinks,
      base: `http://127.0.0.1:${http.port}`,
      close: async () => {
        await http.close();
        await agent.stop();
      },
    };
  }

  function need(): { s: Stack; fake: FakeSlack; leader: Replica; standby: Replica } {
    const [a, b] = replicas;
    if (stack === undefined || slack === undefined || a === undefined || b === undefined) throw new Error('setup failed');
    return a.agent.lease.isLeader() ? { s: stack, fake: slack, leader: a, standby: b } : { s: stack, fake: slack, leader: b, standby: a };
  }

  /** A clean deploy whose service regresses; resolves to the id of the open decision `find` reports. */
  async function openDecision(name: string, find: () => Promise<string | undefined>): Promise<string> {
    await deployThenRegress(stack as Stack, name);
    return waitFor(`an open decision for ${name}`, find, { timeoutMs: 90_000 });
  }

  async function decisionsAt(base: string): Promise<DecisionJson[]> {
    const body = (await (await fetch(`${base}/decisions?namespace=${(stack as Stack).ns}`)).json()) as { decisions: DecisionJson[] };
    return body.decisions;
  }

  const openOn = (base: string, name: string) => async () => (await decisionsAt(base)).find((d) => d.deployment === name && d.state === 'open' && d.verdict === 'suggest')?.id;

  const post = (base: string, id: string, action: string, token: string) =>
    fetch(`${base}/decisions/${id}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({}) });

  async function current(name: string): Promise<Deployment> {
    const s = stack as Stack;
    return s.admin.get<Deployment>(paths.deployment(s.ns, name));
  }

  async function events(name: string, reason: string): Promise<number> {
    const s = stack as Stack;
    const list = await s.admin.get<{ items: { reason: string }[] }>(`${paths.events(s.ns)}?fieldSelector=involvedObject.name=${name}`);
    return list.items.filter((e) => e.reason === reason).length;
  }

  /** chat.postMessage calls for one Deployment's decisions. */
  const posts = (name: string) => (slack as FakeSlack).calls('chat.postMessage').filter((c) => JSON.stringify(c.body).includes(`deployment/${name} `)).length;
  const updates = (name: string, text: RegExp) => (slack as FakeSlack).calls('chat.update').filter((c) => JSON.stringify(c.body).includes(`deployment/${name} `) && text.test(JSON.stringify(c.body))).length;

  function signedAction(id: string, action: string): { body: string; headers: Record<string, string> } {
    const payload = { type: 'block_actions', user: { id: 'U0ALICE' }, actions: [{ action_id: action, value: id }], response_url: receiver?.url };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const ts = String(Math.floor(Date.now() / 1000));
    return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SIGNING, ts, body) } };
  }

  it('R10 each decision route answers the same on the standby as on the leader; a Dismiss from Slack through the standby is published once by the leader', async () => {
    const { s, fake, leader, standby } = need();
    const id = await openDecision('pay', openOn(leader.base, 'pay'));
    await waitFor('the standby to serve the decision', openOn(standby.base, 'pay'));
    expect(await decisionsAt(standby.base)).toEqual(await decisionsAt(leader.base));
    const json = async (base: string) => (await fetch(`${base}/decisions/${id}`)).json();
    expect(await json(standby.base)).toEqual(await json(leader.base));
    for (const r of [leader, standby]) {
      const page = await fetch(`${r.base}/decisions/${id}`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      const text = await page.text();
      expect(text).toMatch(/State: open/);
      expect(text).toContain(`kubectl rollout undo deployment/pay -n ${s.ns} --to-revision=1`);
    }
    const refusals = await Promise.all([leader, standby].map(async (r) => {
      const res = await post(r.base, id, 'dismiss', bob.token);
      return { status: res.status, body: (await res.json()) };
    }));
    expect(refusals[0]?.status).toBe(403);
    expect(refusals[1]).toEqual(refusals[0]);
    await waitFor('the decision posted to Slack', () => posts('pay') === 1 || undefined, { timeoutMs: 30_000 });

    const { body, headers } = signedAction(id, 'rollguard_dismiss');
    const res = await fetch(`${standby.base}/slack/actions`, { method: 'POST', headers, body });
    expect(res.status).toBe(200);
    await waitFor('the person to be answered', () => (receiver?.received ?? []).some((r) => /Done: dismissed by .*alice/.test(JSON.stringify(r.body))) || undefined, { timeoutMs: 20_000 });
    for (const r of [leader, standby]) {
      const seen = await waitFor('every replica to see the dismissal', async () => (await decisionsAt(r.base)).find((d) => d.id === id && d.state === 'dismissed'));
      expect(seen.stateReason).toMatch(new RegExp(`dismissed by ${alice.user} at .* via slack`));
    }
    await waitFor('one RollbackDismissed Event', async () => ((await events('pay', 'RollbackDismissed')) === 1 ? true : undefined), { timeoutMs: 20_000 });
    await waitFor('the Slack message edited to Dismissed', () => updates('pay', /Dismissed/) >= 1 || undefined, { timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 3000));
    expect(await events('pay', 'RollbackDismissed')).toBe(1);
    expect(posts('pay')).toBe(1);
    expect(fake.calls('chat.postMessage').length).toBeGreaterThan(0);
  }, 240_000);

  it('R10 F4 Apply through the standby: one rollback, recorded as that person; Apply through the leader is told who applied it when', async () => {
    const { leader, standby } = need();
    const id = await openDecision('web', openOn(leader.base, 'web'));
    await waitFor('the standby to serve the decision', openOn(standby.base, 'web'));
    const applied = await post(standby.base, id, 'apply', alice.token);
    const body = (await applied.json()) as { message: string };
    expect(applied.status, body.message).toBe(200);
    expect(body.message).toMatch(new RegExp(`applied by ${alice.user} at .* via web: rolled back from revision 2 to 1`));
    const d = await current('web');
    expect(d.spec?.template?.spec?.containers?.[0]?.image).toBe('shop/web:1');
    expect(d.metadata?.annotations?.[ANNOTATIONS.rolledBackBy.key]).toBe(alice.user);
    const again = await post(leader.base, id, 'apply', alice.token);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { message: string }).message).toMatch(new RegExp(`already applied: applied by ${alice.user} at`));
    // Applied, never "superseded" by its own rollback; one Event says so; the one message is edited.
    await new Promise((r) => setTimeout(r, 4000));
    expect((await decisionsAt(leader.base)).find((x) => x.id === id)?.state).toBe('applied');
    expect(await events('web', 'RollbackApplied')).toBe(1);
    expect(await events('web', 'RollbackDecisionSuperseded')).toBe(0);
    expect(posts('web')).toBe(1);
    expect(updates('web', /Rollback applied/)).toBeGreaterThanOrEqual(1);
    expect((await current('web')).metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
  }, 240_000);

  it('F4 two Applies at once, one on each replica: one rollback, the other person told who won', async () => {
    const { leader, standby } = need();
    const id = await openDecision('api', openOn(leader.base, 'api'));
    await waitFor('the standby to serve the decision', openOn(standby.base, 'api'));
    const answers = await Promise.all([leader, standby].map(async (r) => {
      const res = await post(r.base, id, 'apply', alice.token);
      return { status: res.status, message: ((await res.json()) as { message: string }).message };
    }));
    expect(answers.map((a) => a.status).sort(), JSON.stringify(answers)).toEqual([200, 409]);
    expect(answers.find((a) => a.status === 409)?.message).toMatch(new RegExp(`already applied: applied by ${alice.user} at`));
    await new Promise((r) => setTimeout(r, 3000));
    const d = await current('api');
    expect(d.spec?.template?.spec?.containers?.[0]?.image).toBe('shop/api:1');
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(await events('api', 'RollbackApplied')).toBe(1);
  }, 240_000);

  it('F4 kill -9 of the leader with open decisions (one posted to Slack, one dismissed), then a rolling restart: same ids, one message each, the dismissal kept, the page and Apply through any replica', async () => {
    const s = need().s;
    // The in-process replicas step aside (SIGTERM-like stop): two agent processes take over.
    for (const r of replicas.splice(0)) await r.close();
    const ports = new Map<ManagedProcess, number>();
    const start = async (id: string): Promise<ManagedProcess> => {
      const port = await freePort();
      const args = agentProcessArgs(s, id, port, { extra: ['--slack-api', slack?.apiBase ?? ''] });
      const p = await s.startCli(`agent-${id}`, args, () => httpOk(`http://127.0.0.1:${port}/readyz`));
      processes.push(p);
      ports.set(p, port);
      return p;
    };
    const baseOf = (p: ManagedProcess) => `http://127.0.0.1:${String(ports.get(p) ?? 0)}`;
    const holder = async () => (await s.admin.get<{ spec?: { holderIdentity?: string | null } }>(paths.lease(s.own, 'rollguard-agent'))).spec?.holderIdentity;
    const p1 = await start('p1');
    await waitFor('p1 to lead', async () => ((await holder()) === 'p1' ? true : undefined), { timeoutMs: 30_000 });
    const p2 = await start('p2');

    // Two Deployments regress side by side: the leader decides on both, in either order.
    const [k1, k2] = await Promise.all([openDecision('k1', openOn(baseOf(p1), 'k1')), openDecision('k2', openOn(baseOf(p1), 'k2'))]);
    await waitFor('both decisions posted to Slack', () => (posts('k1') === 1 && posts('k2') === 1) || undefined, { timeoutMs: 30_000, detail: () => `posts: k1 ${String(posts('k1'))}, k2 ${String(posts('k2'))}\np1 log:\n${p1.logTail()}` });
    const dismissed = await post(baseOf(p2), k2, 'dismiss', alice.token);
    expect(dismissed.status).toBe(200);
    await waitFor('the k2 message edited to Dismissed', () => updates('k2', /Dismissed/) >= 1 || undefined, { timeoutMs: 20_000 });

    process.kill(p1.pid, 'SIGKILL');
    await waitFor('p2 to take the Lease over', async () => ((await holder()) === 'p2' ? true : undefined), { timeoutMs: 30_000 });
    const p3 = await start('p3');
    await waitFor('the replacement to serve the open decision', openOn(baseOf(p3), 'k1'), { timeoutMs: 30_000 });
    // Several evaluation cycles of the new leader: nothing is posted again, nothing reopened.
    await new Promise((r) => setTimeout(r, 5000));
    for (const p of [p2, p3]) {
      const ds = await decisionsAt(baseOf(p));
      expect(ds.find((d) => d.id === k1)?.state).toBe('open');
      expect(ds.find((d) => d.id === k2)?.state).toBe('dismissed');
      expect(ds.filter((d) => d.deployment === 'k1' || d.deployment === 'k2').map((d) => d.id).sort()).toEqual([k1, k2].sort());
      const page = await fetch(`${baseOf(p)}/decisions/${k1}`, { headers: { accept: 'text/html' } });
      expect(await page.text()).toMatch(/State: open/);
    }
    expect(posts('k1')).toBe(1);
    expect(posts('k2')).toBe(1);

    const applied = await post(baseOf(p3), k1, 'apply', alice.token);
    const body = (await applied.json()) as { message: string };
    expect(applied.status, body.message).toBe(200);
    await waitFor('the k1 message edited to applied (by the new leader)', () => updates('k1', /Rollback applied/) >= 1 || undefined, { timeoutMs: 20_000 });
    expect(posts('k1')).toBe(1);

    // The chart's upgrade: each replica replaced in turn (SIGTERM, then a new one).
    const k3 = await openDecision('k3', openOn(baseOf(p2), 'k3'));
    await waitFor('k3 posted to Slack', () => posts('k3') === 1 || undefined, { timeoutMs: 30_000 });
    await p2.stop(20_000);
    const p4 = await start('p4');
    await p3.stop(20_000);
    const p5 = await start('p5');
    await waitFor('a new replica to lead', async () => (['p4', 'p5'].includes((await holder()) ?? '') ? true : undefined), { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 5000));
    for (const p of [p4, p5]) {
      const ds = await decisionsAt(baseOf(p));
      expect(ds.find((d) => d.id === k1)?.state).toBe('applied');
      expect(ds.find((d) => d.id === k2)?.state).toBe('dismissed');
      expect(ds.find((d) => d.id === k3)?.state).toBe('open');
    }
    expect([posts('k1'), posts('k2'), posts('k3')]).toEqual([1, 1, 1]);
    const k3Applied = await post(baseOf(p5), k3, 'apply', alice.token);
    expect(k3Applied.status).toBe(200);
    // On failure: who leads, what each replica holds of k3, and every chat.update and chat.postMessage sent for it
    // (a second post means the message's ts was not kept on the decision when the Lease changed hands).
    const k3State = async () => {
      const held = await Promise.all([p4, p5].map(async (p) => (await decisionsAt(baseOf(p)).catch(() => [])).find((d) => d.id === k3)));
      const edits = (slack as FakeSlack).calls('chat.update').filter((c) => JSON.stringify(c.body).includes('deployment/k3 ')).length;
      return `lease holder ${String(await holder().catch(() => 'unreadable'))}; k3 at p4 ${held[0]?.state ?? 'absent'}, at p5 ${held[1]?.state ?? 'absent'}; chat.update calls for k3: ${String(edits)}; chat.postMessage calls for k3: ${String(posts('k3'))}`;
    };
    let k3Detail = '';
    await waitFor('the k3 message edited', async () => {
      k3Detail = await k3State();
      return updates('k3', /Rollback applied/) >= 1 || undefined;
    }, { timeoutMs: 20_000, detail: () => k3Detail });
    expect(posts('k3')).toBe(1);
  }, 420_000);
});

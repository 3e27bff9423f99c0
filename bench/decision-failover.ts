// The failover case of `npm run bench:decision`: two agent processes with the chart's Lease
// timings, an open decision posted to the fake Slack, then the leader's kill -9. From the kill:
//   served:    the survivor's GET /decisions/{id} answering 200 with that decision (polled);
//   applied:   a person's Apply through the survivor answered 200, the rollback patched. This is
//              "acted on again" for the product: a human's click rolls the Deployment back;
//   leader:    the survivor holding the Lease (polled on the apiserver);
//   published: the Slack message of the decision edited to "Rollback applied" (the Apply's
//              transition, which only the Lease holder publishes).
// Then a new process replaces the dead one as the standby, and the next repetition kills the
// survivor. A second chat.postMessage for a decision fails the run: it must be edited, never
// posted again.

import { decisionPaths } from '../src/agent/decision-crd.js';
import type { Deployment } from '../src/core/kube.js';
import { paths } from '../src/kube/rest.js';
import { deployThenRegress } from '../test/support/agent-helpers.js';
import type { FakeSlack } from '../test/support/fake-slack.js';
import { grantApplyButton, person } from '../test/support/people.js';
import { freePort, httpOk, type ManagedProcess } from '../test/support/process.js';
import type { Stack } from '../test/support/rollguard-stack.js';
import { waitFor } from '../test/support/wait.js';

/** The chart's defaults (values.yaml agent.leaseDuration, renewDeadline, retryPeriod). */
export const CHART_LEASE = { durationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export interface FailoverTimes {
  served: number[];
  applied: number[];
  leader: number[];
  published: number[];
}

export interface FailoverOptions {
  stack: Stack;
  /** The namespace of the failover services (one per repetition), which only these agents evaluate. */
  ns: string;
  services: readonly string[];
  slack: FakeSlack;
  lease: typeof CHART_LEASE;
  say: (line: string) => void;
}

interface Replica {
  id: string;
  process: ManagedProcess;
  base: string;
}

const seconds = (ms: number) => `${String(Math.round(ms / 1000))}s`;

export async function measureFailover(opts: FailoverOptions): Promise<FailoverTimes> {
  const { stack: s, ns, slack, lease, say } = opts;
  const cleanups: (() => Promise<unknown>)[] = [await grantApplyButton(s)];
  const alice = await person(s, 'alice', 'edit', [ns]);
  let started = 0;
  const start = async (): Promise<Replica> => {
    const id = `failover-${String(started++)}`;
    const port = await freePort();
    const args = ['agent', '--kubeconfig', s.agentKubeconfigPath, '--prometheus', s.prometheus.url, '--policy', s.policyPath, '--namespace', s.own, '--id', id, '--port', String(port), '--interval', '1s', '--lease-duration', seconds(lease.durationMs), '--renew-deadline', seconds(lease.renewDeadlineMs), '--retry-period', seconds(lease.retryPeriodMs), '--only-namespace', ns, '--slack-api', slack.apiBase, '--log-level', 'warn'];
    const base = `http://127.0.0.1:${String(port)}`;
    const p = await s.startCli(id, args, () => httpOk(`${base}/readyz`));
    cleanups.push(() => p.stop(20_000));
    return { id, process: p, base };
  };
  const holder = async () => (await s.admin.get<{ spec?: { holderIdentity?: string | null } }>(paths.lease(s.own, 'rollguard-agent'))).spec?.holderIdentity ?? undefined;
  const posts = (name: string) => slack.calls('chat.postMessage').filter((c) => JSON.stringify(c.body).includes(`deployment/${name} `));
  const appliedEdit = (name: string) => slack.calls('chat.update').find((c) => JSON.stringify(c.body).includes(`deployment/${name} `) && /Rollback applied/.test(JSON.stringify(c.body)));
  const times: FailoverTimes = { served: [], applied: [], leader: [], published: [] };
  try {
    const first = await start();
    await waitFor(`${first.id} to lead`, async () => ((await holder()) === first.id ? true : undefined), { timeoutMs: 60_000 });
    let replicas = [first, await start()];
    for (const name of opts.services) {
      const leaderId = await holder();
      const leader = replicas.find((r) => r.id === leaderId);
      const survivor = replicas.find((r) => r.id !== leaderId);
      if (leader === undefined || survivor === undefined) throw new Error(`no leader among ${replicas.map((r) => r.id).join(', ')} (Lease held by ${String(leaderId)})`);
      await deployThenRegress(s, name, ns);
      const id = await waitFor(`an open decision for ${name}`, async () => {
        const body = (await (await fetch(`${leader.base}/decisions?namespace=${ns}`)).json()) as { decisions: { id: string; deployment: string; state: string; verdict: string }[] };
        return body.decisions.find((d) => d.deployment === name && d.state === 'open' && d.verdict === 'suggest')?.id;
      }, { timeoutMs: 120_000, detail: () => leader.process.logTail() });
      // Posted, and the message recorded on the decision, as the leader leaves it between two changes.
      await waitFor(`the decision on ${name} posted to Slack and its message recorded`, async () => {
        if (posts(name).length !== 1) return undefined;
        const o = await s.admin.get<{ status?: { published?: string; notifications?: { slack?: { ts?: string } } } }>(decisionPaths.object(s.own, id));
        return o.status?.notifications?.slack?.ts !== undefined && o.status.published?.startsWith('open:') === true;
      }, { timeoutMs: 60_000, detail: () => leader.process.logTail() });

      const killedAt = Date.now();
      process.kill(leader.process.pid, 'SIGKILL');
      const leaderTaken = waitFor(`${survivor.id} to take the Lease`, async () => ((await holder()) === survivor.id ? Date.now() : undefined), { timeoutMs: 3 * lease.durationMs, intervalMs: 20 });
      leaderTaken.catch(() => undefined);
      const served = await waitFor(`${survivor.id} to serve ${id}`, async () => {
        const res = await fetch(`${survivor.base}/decisions/${id}`, { headers: { accept: 'application/json' } });
        return res.status === 200 && ((await res.json()) as { id?: string }).id === id ? Date.now() : undefined;
      }, { timeoutMs: 60_000, intervalMs: 20 });
      const applied = await waitFor(`an Apply of ${id} through ${survivor.id}`, async () => {
        const res = await fetch(`${survivor.base}/decisions/${id}/apply`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` }, body: '{}' });
        const body = (await res.json()) as { message?: string };
        if (res.status !== 200) throw new Error(`Apply answered ${String(res.status)}: ${body.message ?? ''}`);
        return Date.now();
      }, { timeoutMs: 60_000, intervalMs: 20 });
      const image = (await s.admin.get<Deployment>(paths.deployment(ns, name))).spec?.template?.spec?.containers?.[0]?.image;
      if (image !== `shop/${name}:1`) throw new Error(`the Apply of ${id} answered 200 but ${name} runs ${String(image)}`);
      const leaderAt = await leaderTaken;
      const edit = await waitFor(`the Slack message of ${id} edited to applied`, () => appliedEdit(name), { timeoutMs: 3 * lease.durationMs, intervalMs: 20, detail: () => survivor.process.logTail() });
      if (posts(name).length !== 1) throw new Error(`the decision on ${name} was posted ${String(posts(name).length)} times to Slack; after a failover its message must be edited, not posted again`);
      const row = { served: served - killedAt, applied: applied - killedAt, leader: leaderAt - killedAt, published: edit.at - killedAt };
      for (const k of Object.keys(row) as (keyof typeof row)[]) times[k].push(row[k] / 1000);
      say(`  ${name}: kill → served ${(row.served / 1000).toFixed(2)} s, → Apply rolled back ${(row.applied / 1000).toFixed(2)} s, → survivor leads ${(row.leader / 1000).toFixed(2)} s, → Slack message edited ${(row.published / 1000).toFixed(2)} s`);
      s.exporter.set(ns, name, { errorShare: 0.002 });
      replicas = [survivor, await start()];
    }
    return times;
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

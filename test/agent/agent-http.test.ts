import type { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { startAgentHttp } from '../../src/agent/http.js';
import { StaticPolicySource } from '../../src/agent/policy-source.js';
import { parseInstant } from '../../src/core/duration.js';
import type { ReplicaSet } from '../../src/core/kube.js';
import type { Policy } from '../../src/core/policy.js';
import { KubeRest, paths } from '../../src/kube/rest.js';
import { OpenMetricsFileSource } from '../../src/metrics/openmetrics-file.js';
import { deploymentManifest, policySet } from '../support/agent-helpers.js';
import { controlPlane, describeWithControlPlane } from '../support/control-plane.js';
import { createTestNamespace, type TestNamespace } from '../support/namespaces.js';
import { installRollguardCrds } from '../support/rollguard-crds.js';
import { trafficWithHistory } from '../support/traffic-history.js';
import { waitFor } from '../support/wait.js';

// The agent's HTTP endpoints on the real control plane: two agents on one Lease (a leader and a
// standby), each with its own server, neither evaluating on its own (10 min interval). The one
// decision comes from a real evaluation, asked for explicitly, of a Deployment whose metrics are a
// generated OpenMetrics history with a 5xx rise after its ReplicaSet was created.

const logger = pino({ level: 'silent' });

type Http = { port: number; close(): Promise<void> };

interface Got {
  status: number;
  type: string;
  text: string;
}

async function get(port: number, path: string, method = 'GET'): Promise<Got> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

describeWithControlPlane('R10 F5 the agent over HTTP: probes, metrics and decisions', () => {
  let ns: TestNamespace | undefined;
  let source: OpenMetricsFileSource | undefined;
  const agents: Agent[] = [];
  const servers: Http[] = [];
  let beforeStart: Got | undefined;

  function agentFor(identity: string, namespace: string, kubeConfig: KubeConfig): Agent {
    return new Agent({
      kubeConfig,
      namespace,
      identity,
      policies: new StaticPolicySource(policySet()),
      sourceFor: (_policy: Policy) => {
        if (source === undefined) throw new Error('no metrics yet');
        return source;
      },
      logger,
      intervalMs: 10 * 60_000,
      lease: { durationMs: 6000, renewDeadlineMs: 4000, retryPeriodMs: 1000 },
      restartDelayMs: 500,
    });
  }

  beforeAll(async () => {
    const cp = await controlPlane();
    await installRollguardCrds(new KubeRest(cp.kubeConfig));
    ns = await createTestNamespace('agent-http');
    const leader = agentFor('http-a', ns.name, cp.kubeConfig);
    const standby = agentFor('http-b', ns.name, cp.kubeConfig);
    agents.push(leader, standby);
    for (const a of agents) servers.push(await startAgentHttp(a, logger, 0, '127.0.0.1'));
    beforeStart = await get(servers[0]?.port ?? 0, '/readyz');
    await leader.start();
    await waitFor('http-a to lead', () => leader.lease.isLeader(), { timeoutMs: 30_000 });
    await standby.start();
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await s.close();
    for (const a of agents) await a.stop();
    await ns?.cleanup();
  }, 60_000);

  const port = (i: 0 | 1): number => servers[i]?.port ?? 0;

  it('F5 /healthz answers ok', async () => {
    const res = await get(port(0), '/healthz');
    expect(res).toMatchObject({ status: 200, text: 'ok\n' });
    expect(res.type).toMatch(/^text\/plain/);
  });

  it('R10 /readyz: 503 naming what is not synced before the informers have listed, then 200 naming the leader and the standby', async () => {
    expect(beforeStart?.status).toBe(503);
    expect(beforeStart?.text).toMatch(/^not synced: Deployments, ReplicaSets, Jobs, ConfigMaps\/Secrets, RollbackDecisions; standby \(http-a;/);
    const leader = await get(port(0), '/readyz');
    expect(leader.status).toBe(200);
    // Ready, and naming what fails: this fixture has no metrics source until a test sets one.
    expect(leader.text).toMatch(/^synced; leader \(http-a\); policies from built-in defaults; failing: Prometheus failing since [\dT:.Z-]+: no metrics yet\n$/);
    const standby = await waitFor('the standby to be synced', async () => {
      const r = await get(port(1), '/readyz');
      return r.status === 200 ? r : undefined;
    }, { timeoutMs: 30_000 });
    expect(standby.text).toMatch(/^synced; standby \(http-b; another replica holds the Lease/);
  });

  it('F5 /metrics: every agent metric family in the Prometheus text format, the leader gauge 1 on the Lease holder and 0 on the standby', async () => {
    const leader = await get(port(0), '/metrics');
    expect(leader.status).toBe(200);
    expect(leader.type).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const family of [
      'rollguard_agent_evaluations_total',
      'rollguard_agent_decisions_total',
      'rollguard_agent_rollbacks_total',
      'rollguard_agent_failures_total',
      'rollguard_agent_alerts_total',
      'rollguard_agent_evaluation_duration_seconds',
      'rollguard_agent_leader',
      'rollguard_agent_watch_last_event_age_seconds',
    ]) {
      expect(leader.text).toContain(`# TYPE ${family} `);
    }
    expect(leader.text).toMatch(/^rollguard_agent_leader 1$/m);
    expect(leader.text).toMatch(/^rollguard_agent_watch_last_event_age_seconds\{resource="deployments"\} \d/m);
    expect((await get(port(1), '/metrics')).text).toMatch(/^rollguard_agent_leader 0$/m);
  });

  it('R10 /decisions lists the decision of an evaluation, filtered by namespace and state; /decisions/{id} serves it', async () => {
    const cp = await controlPlane();
    const admin = new KubeRest(cp.kubeConfig);
    const namespace = ns?.name ?? '';
    await admin.create(`/apis/apps/v1/namespaces/${namespace}/deployments`, deploymentManifest('web', 'shop/web:1'));
    // Without the webhook the deploy's start is its ReplicaSet's creation.
    const created = await waitFor('the ReplicaSet of web', async () => {
      const list = await admin.get<{ items: ReplicaSet[] }>(paths.replicaSets(namespace));
      return parseInstant(list.items[0]?.metadata?.creationTimestamp);
    });
    const services = ['web', 'other'].map((service) => ({ namespace, service, traffic: { rps: 100, errorShare: 0.002, latencySeconds: 0.05 } }));
    const { history } = trafficWithHistory(services, {
      historyMs: 10 * 60_000,
      stepMs: 1000,
      now: created + 4 * 60_000,
      changes: [{ at: created + 2000, namespace, service: 'web', traffic: { errorShare: 0.2 } }],
    });
    source = new OpenMetricsFileSource(history, policySet().clusterDefault.metrics);
    const leader = agents[0] as Agent;
    await waitFor('a suggest decision for web', async () => ((await leader.evaluate(namespace, 'web')).result === 'suggest' ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 1000,
      detail: () => leader.latestDecision(namespace, 'web')?.decision.summary ?? 'no decision',
    });
    const id = leader.latestDecision(namespace, 'web')?.id ?? '';

    const all = JSON.parse((await get(port(0), '/decisions')).text) as { leader: boolean; decisions: { id: string; namespace: string; deployment: string; state: string; verdict: string }[] };
    expect(all.leader).toBe(true);
    expect(all.decisions.filter((d) => d.namespace === namespace)).toEqual([expect.objectContaining({ id, deployment: 'web', state: 'open', verdict: 'suggest' })]);
    const open = JSON.parse((await get(port(0), `/decisions?namespace=${namespace}&state=open`)).text) as typeof all;
    expect(open.decisions.map((d) => d.id)).toEqual([id]);
    const elsewhere = JSON.parse((await get(port(0), `/decisions?namespace=${namespace}-elsewhere`)).text) as typeof all;
    expect(elsewhere.decisions).toEqual([]);

    const one = await get(port(0), `/decisions/${id}`);
    expect(one.status).toBe(200);
    expect(one.type).toMatch(/^application\/json/);
    const body = JSON.parse(one.text) as Record<string, unknown>;
    expect(body).toMatchObject({ id, namespace, deployment: 'web', service: 'web', state: 'open', verdict: 'suggest' });
    expect((body.conditions as { key: string }[]).map((c) => c.key)).toEqual(['window', 'sameService', 'podSpecOnly', 'migration', 'cleanSignal', 'ownership', 'revision', 'paused', 'blackout', 'mode']);
    // The template was never stamped by a webhook: a human decides, and the notes say why (F1).
    expect((body.notes as string[]).some((n) => n.startsWith('rollguard is unsure (F1): the current pod template carries no rollguard stamp'))).toBe(true);

    // Every replica reads the same RollbackDecisions: the standby serves the decision as the leader does.
    const standby = await waitFor('the standby to see the decision', async () => {
      const body = JSON.parse((await get(port(1), `/decisions?namespace=${namespace}`)).text) as typeof all;
      return body.decisions.length > 0 ? body : undefined;
    });
    expect(standby).toEqual({ ...(JSON.parse((await get(port(0), `/decisions?namespace=${namespace}`)).text) as typeof all), leader: false });
    expect(JSON.parse((await get(port(1), `/decisions/${id}`)).text)).toEqual(body);
  }, 120_000);

  it('F5 /decisions/{id} of an unknown decision: the same 404 from the leader and the standby', async () => {
    for (const i of [0, 1] as const) {
      const res = await get(port(i), '/decisions/0123456789abcdef');
      expect(res.status).toBe(404);
      expect(JSON.parse(res.text)).toEqual({ error: 'no decision 0123456789abcdef (every replica reads the same RollbackDecisions; a closed decision is deleted after the retention)' });
    }
  });

  it('F5 an unknown route or method: 404 listing what the agent serves', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['DELETE', '/decisions'],
      ['GET', '/alertmanager'],
    ] as const) {
      const res = await get(port(0), path, method);
      expect(res.status).toBe(404);
      const error = (JSON.parse(res.text) as { error: string }).error;
      expect(error.startsWith(`no route ${method} ${path}; the agent serves GET /healthz, /readyz, /metrics, /decisions, /decisions/{id} and POST /alertmanager`)).toBe(true);
    }
  });
});

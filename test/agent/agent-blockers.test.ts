import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, it, type ExpectStatic } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import type { DecisionRecord } from '../../src/agent/decision-record.js';
import { startAgentHttp } from '../../src/agent/http.js';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { CONDITION_KEYS, type Condition, type ConditionKey } from '../../src/core/decision-types.js';
import { parseInstant } from '../../src/core/duration.js';
import type { Deployment } from '../../src/core/kube.js';
import { paths } from '../../src/kube/rest.js';
import { deploymentManifest, POLICY, rolledOut, setImage, startAgent } from '../support/agent-helpers.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import type { Traffic } from '../support/test-exporter.js';
import { waitFor } from '../support/wait.js';

// Every condition but one holds, on the real control plane: a clean v1, a deploy to v2, then a
// regression, and exactly one blocker per case. The agent must not roll back; it raises a human
// decision (an Event, GET /decisions) naming the blocker and its cause. The cases run at once:
// four in one namespace with healthy neighbours (so R2's "everything regressed at once" does not
// fire), R4 in a namespace of its own (a migration Job blocks every deploy around it), and R1 in
// one whose policy has a 5 s onset window.

const HEALTHY = ['n1', 'n2', 'n3', 'n4'];
const MAIN = ['cfg', 'front', 'back', 'lat', 'argo'];
const OK: Partial<Traffic> = { errorShare: 0.002, latencySeconds: 0.05 };

interface DecisionJson {
  id: string;
  deployment: string;
  service: string;
  state: string;
  verdict: string;
  command: string | null;
  conditions: { key: ConditionKey; status: Condition['status']; evidence: string }[];
  notes: string[];
}

const failing = (r: { decision: { conditions: Record<ConditionKey, Condition> } }) => CONDITION_KEYS.filter((k) => r.decision.conditions[k].status !== 'met');

describeWithControlPlane('R6 one blocker is enough: no rollback, a human decision that names it', () => {
  let stack: Stack | undefined;
  let agent: Agent | undefined;
  let http: { port: number; close(): Promise<void> } | undefined;

  beforeAll(async () => {
    const s = await startStack({
      prefix: 'agent-block',
      services: [...MAIN, ...HEALTHY].map((service) => ({ service })),
      moreNamespaces: [
        { prefix: 'mig', services: ['mig', 'h1', 'h2'].map((service) => ({ service })) },
        { prefix: 'late', services: ['late', 'h1', 'h2'].map((service) => ({ service })) },
      ],
      policy: POLICY,
    });
    stack = s;
    const late = s.more[1] ?? '';
    const a = startAgent(s, 'blockers', `${POLICY}namespaces:\n  ${late}:\n    windows: { onset: 5s }\n`);
    agent = a;
    await a.start();
    http = await startAgentHttp(a, pino({ level: 'silent' }), 0, '127.0.0.1');
    await waitFor('the agent to lead', () => a.lease.isLeader(), { timeoutMs: 30_000 });
  }, 240_000);

  afterAll(async () => {
    await http?.close();
    await agent?.stop();
    await stack?.stop();
  }, 60_000);

  function need(): { s: Stack; a: Agent; port: number } {
    if (stack === undefined || agent === undefined || http === undefined) throw new Error('the stack or the agent did not start');
    return { s: stack, a: agent, port: http.port };
  }

  /** v1 rolled out, then `between` (the blocker's set-up), then v2 rolled out. */
  async function deployV2(ns: string, name: string, extra: Parameters<typeof deploymentManifest>[2] = {}, between?: () => Promise<void>): Promise<Deployment> {
    const { s } = need();
    await s.admin.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deploymentManifest(name, `shop/${name}:1`, extra));
    await rolledOut(s, ns, name, `shop/${name}:1`);
    await between?.();
    await setImage(s, ns, name, `shop/${name}:2`);
    return rolledOut(s, ns, name, `shop/${name}:2`);
  }

  function describeLatest(ns: string, name: string): string {
    const r = need().a.latestDecision(ns, name);
    if (r === undefined) return 'no decision yet';
    return `latest decision ${r.id} (${r.state}, ${r.decision.verdict}): ${r.decision.summary}; not met: ${failing(r).join(', ')}; notes: ${r.decision.notes.join(' | ')}`;
  }

  /**
   * Waits for the open `suggest` decision whose only unmet condition is `blocker` (a rollback fails
   * at once), then for three more evaluations of it, and checks that nothing was rolled back
   * meanwhile and that the decision reached the Deployment's Events and GET /decisions.
   * `expectedCommand`: the decision's command when it is not the plain undo (an owner's route, R13).
   */
  async function expectBlocked(expect: ExpectStatic, ns: string, name: string, blocker: ConditionKey, evidence: RegExp, expectedCommand?: string): Promise<DecisionJson> {
    const { s, a, port } = need();
    const detail = () => describeLatest(ns, name);
    const record: DecisionRecord = await waitFor(
      `a suggest decision for ${ns}/${name} blocked by ${blocker} alone`,
      () => {
        const r = a.latestDecision(ns, name);
        if (r?.state === 'rolled-back') return r;
        return r !== undefined && r.state === 'open' && r.decision.verdict === 'suggest' && failing(r).join() === blocker ? r : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 200, detail },
    );
    expect(record.state, `rolled back despite ${blocker}: ${detail()}`).toBe('open');
    // Three more evaluations (the decision is rewritten only when it changes, so they are asked for
    // here, besides the periodic ones): each still a human's decision, never a rollback.
    for (let i = 0; i < 3; i++) expect((await a.evaluate(ns, name)).result, detail()).toBe('suggest');

    const d = await s.admin.get<Deployment>(paths.deployment(ns, name));
    const annotations = d.metadata?.annotations ?? {};
    expect(d.spec?.template?.spec?.containers?.[0]?.image).toBe(`shop/${name}:2`);
    expect(annotations['deployment.kubernetes.io/revision']).toBe('2');
    expect(annotations[ANNOTATIONS.rolledBackBy.key]).toBeUndefined();
    const after = a.decisions.get(record.id);
    expect(after?.state, detail()).toBe('open');
    expect(after?.decision.verdict).toBe('suggest');
    expect(a.latestDecision(ns, name)?.id, detail()).toBe(record.id);
    expect(record.decision.conditions[blocker].status).toBe('unmet');
    expect(record.decision.conditions[blocker].evidence).toMatch(evidence);
    // Nothing else made it a human's call: no doubt about the data (F1).
    expect(record.decision.notes.filter((n) => n.includes('unsure'))).toEqual([]);
    const command = expectedCommand ?? `kubectl rollout undo deployment/${name} -n ${ns} --to-revision=1`;
    expect(record.decision.command).toBe(command);

    const events = await waitFor(`a RollbackSuggested Event for decision ${record.id}`, async () => {
      const list = await s.admin.get<{ items: { reason: string; type: string; message: string; involvedObject: { kind: string; uid?: string } }[] }>(`${paths.events(ns)}?fieldSelector=involvedObject.name=${name}`);
      const mine = list.items.filter((e) => e.reason === 'RollbackSuggested' && e.message.includes(record.id));
      return mine.length > 0 ? mine : undefined;
    }, { timeoutMs: 30_000 });
    expect(events).toHaveLength(1);
    expect(events[0]?.type).toBe('Warning');
    expect(events[0]?.involvedObject).toMatchObject({ kind: 'Deployment', uid: d.metadata?.uid });
    expect(events[0]?.message).toContain(`command: ${command}`);

    const res = await fetch(`http://127.0.0.1:${port}/decisions?namespace=${ns}&state=open`);
    expect(res.status).toBe(200);
    const listed = ((await res.json()) as { leader: boolean; decisions: DecisionJson[] }).decisions.filter((j) => j.deployment === name);
    expect(listed.map((j) => j.id)).toEqual([record.id]);
    const json = listed[0] as DecisionJson;
    expect(json).toMatchObject({ state: 'open', verdict: 'suggest', command });
    // Schema v1, as the webhook sends it: the conditions in order, each with its key.
    expect(json.conditions.map((c) => c.key)).toEqual([...CONDITION_KEYS]);
    expect(json.conditions.find((c) => c.key === blocker)?.status).toBe('unmet');
    expect(json.conditions.find((c) => c.key === blocker)?.evidence).toMatch(evidence);
    expect(json.conditions.filter((c) => c.status !== 'met').map((c) => c.key)).toEqual([blocker]);
    const compact = JSON.parse(annotations[ANNOTATIONS.decision.key] ?? '{}') as { id?: string; verdict?: string };
    expect(compact).toMatchObject({ id: record.id, verdict: 'suggest' });
    return json;
  }

  async function withTraffic<T>(ns: string, service: string, change: Partial<Traffic>, body: () => Promise<T>): Promise<T> {
    const { s } = need();
    s.exporter.set(ns, service, change);
    try {
      return await body();
    } finally {
      s.exporter.set(ns, service, OK);
    }
  }

  it.concurrent('R3 a ConfigMap the template reads, changed in place just before the deploy: pod-spec-only is not met', async ({ expect }) => {
    const { s } = need();
    const ns = s.ns;
    await s.admin.create(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'cfg-env' }, data: { MODE: 'a' } });
    await deployV2(ns, 'cfg', { env: [{ configMapRef: { name: 'cfg-env' } }] }, async () => {
      await s.admin.patch(`/api/v1/namespaces/${ns}/configmaps/cfg-env`, 'merge', { data: { MODE: 'b' } });
    });
    await withTraffic(ns, 'cfg', { errorShare: 0.2 }, () => expectBlocked(expect, ns, 'cfg', 'podSpecOnly', /ConfigMap cfg-env .*changed in place/));
  }, 300_000);

  it.concurrent('R4 a migration Job in the namespace around the deploy: the migration guard is not met', async ({ expect }) => {
    const { s } = need();
    const ns = s.more[0] ?? '';
    await deployV2(ns, 'mig', {}, async () => {
      // Admitted and stamped is enough: whether its pod ever runs does not matter to R4.
      await s.admin.create(`/apis/batch/v1/namespaces/${ns}/jobs`, {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'db-migrate' },
        spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'flyway', image: 'flyway/flyway:10', args: ['migrate'] }] } } },
      });
    });
    await withTraffic(ns, 'mig', { errorShare: 0.2 }, () => expectBlocked(expect, ns, 'mig', 'migration', /migration Job db-migrate .*still running/));
  }, 300_000);

  it.concurrent('R2 a deploy of front while back regresses: same service is not met, and the decision names back', async ({ expect }) => {
    const { s } = need();
    const ns = s.ns;
    await deployV2(ns, 'front');
    const json = await withTraffic(ns, 'back', { errorShare: 0.2 }, () => expectBlocked(expect, ns, 'front', 'sameService', new RegExp(`regression is in ${ns}/back, not in the deployed service ${ns}/front`)));
    expect(json.service).toBe('front');
    expect(json.notes).toContain(`evidence: ${ns}/back regressed after the deploy of front`);
  }, 300_000);

  it.concurrent('R5 latency alone (p99 up thirtyfold, errors flat): not a clean signal, a human confirms', async ({ expect }) => {
    const { s } = need();
    const ns = s.ns;
    await deployV2(ns, 'lat');
    await withTraffic(ns, 'lat', { latencySeconds: 1.5 }, () => expectBlocked(expect, ns, 'lat', 'cleanSignal', /latency regressed without an error-rate rise/));
  }, 300_000);

  it.concurrent('R13 an Argo CD application owns the Deployment: ownership is not met, the notes give the argocd route', async ({ expect }) => {
    const { s } = need();
    const ns = s.ns;
    await deployV2(ns, 'argo', { annotations: { 'argocd.argoproj.io/tracking-id': `shop-argo:apps/Deployment:${ns}/argo` } });
    const json = await withTraffic(ns, 'argo', { errorShare: 0.2 }, () => expectBlocked(expect, ns, 'argo', 'ownership', /Argo CD application shop-argo/, 'argocd app set shop-argo --sync-policy none && argocd app rollback shop-argo'));
    expect(json.notes).toContain('Argo CD-native way back:');
    expect(json.notes.some((n) => n.includes('argocd app rollback shop-argo'))).toBe(true);
    expect(json.notes.some((n) => n.includes('argocd app set shop-argo --sync-policy none'))).toBe(true);
    // The main command (checked above) is Argo CD's; the plain undo, which Argo CD would revert, only a note.
    expect(json.notes.some((n) => /^a plain kubectl rollout undo deployment\/argo .* is not the way back: Argo CD puts it back/.test(n))).toBe(true);
  }, 300_000);

  it.concurrent('R1 a regression that begins 15 s after the rollout completed, with a 5 s onset window: the window is not met', async ({ expect }) => {
    const { s } = need();
    const ns = s.more[1] ?? '';
    await deployV2(ns, 'late');
    const completed = await waitFor('the agent to record when the rollout of late completed', async () => {
      const d = await s.admin.get<Deployment>(paths.deployment(ns, 'late'));
      const text = d.metadata?.annotations?.[ANNOTATIONS.rolloutCompleted.key];
      return text === undefined ? undefined : parseInstant((JSON.parse(text) as { at?: string }).at);
    }, { timeoutMs: 60_000 });
    // The case is the passage of time itself: the onset must lie well past the 5 s window.
    await sleep(Math.max(0, completed + 15_000 - Date.now()));
    await withTraffic(ns, 'late', { errorShare: 0.2 }, () => expectBlocked(expect, ns, 'late', 'window', /after the rollout completed: more than 5s after completion/));
  }, 300_000);
});

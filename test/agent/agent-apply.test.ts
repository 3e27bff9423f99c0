import { readFile } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { startAgentHttp } from '../../src/agent/http.js';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import type { Deployment } from '../../src/core/kube.js';
import { paths } from '../../src/kube/rest.js';
import { deployThenRegress, startAgent } from '../support/agent-helpers.js';
import { describeWithControlPlane } from '../support/control-plane.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { grantApplyButton, person, type Person } from '../support/people.js';
import { runCliAsync } from '../support/run-cli.js';
import { waitFor } from '../support/wait.js';

// R10 the apply button acts as the person who presses it, after checking they may: TokenReview,
// SubjectAccessReview and an impersonated rollback on the real apiserver, from the API and from the
// decision page in a real headless Chromium.

const POLICY = `
default:
  mode: suggest
  metrics: { step: 1s, baseline: 5m }
  thresholds: { persistence: 3, minRequests: 100 }
`;

describeWithControlPlane('R10 apply a decision as the person who presses Apply', () => {
  let stack: Stack | undefined;
  let agent: Agent | undefined;
  let http: { port: number; close(): Promise<void> } | undefined;
  let browser: Browser | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  let alice: Person;
  let bob: Person;

  beforeAll(async () => {
    const s = await startStack({ prefix: 'agent-apply', services: [{ service: 'pay' }, { service: 'web' }, { service: 'api' }], policy: POLICY });
    stack = s;
    cleanups.push(await grantApplyButton(s));
    alice = await person(s, 'alice', 'edit');
    bob = await person(s, 'bob', 'view');
    const a = startAgent(s, 'agent-apply', POLICY);
    agent = a;
    await a.start();
    http = await startAgentHttp(a, await import('pino').then((p) => p.pino({ level: 'silent' })), 0, '127.0.0.1');
    browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await http?.close();
    await agent?.stop();
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await stack?.stop();
  }, 60_000);

  function need(): { s: Stack; a: Agent; base: string } {
    if (stack === undefined || agent === undefined || http === undefined) throw new Error('setup failed');
    return { s: stack, a: agent, base: `http://127.0.0.1:${http.port}` };
  }

  /** A clean deploy whose service regresses: with mode suggest the agent opens a decision and waits. */
  async function openDecision(name: string): Promise<string> {
    const { s, a } = need();
    await deployThenRegress(s, name);
    const record = await waitFor(`an open decision for ${name}`, () => {
      const r = a.latestDecision(s.ns, name);
      return r?.state === 'open' && r.decision.verdict === 'suggest' ? r : undefined;
    }, { timeoutMs: 90_000 });
    return record.id;
  }

  const post = (base: string, id: string, action: string, token: string | undefined, body: unknown = {}) =>
    fetch(`${base}/decisions/${id}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) }, body: JSON.stringify(body) });

  it('R10 a denied user changes nothing; a token from elsewhere is refused; an allowed user rolls back, recorded under their name; a second Apply says who did it', async () => {
    const { s, base } = need();
    const id = await openDecision('pay');

    const denied = await post(base, id, 'apply', bob.token);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { message: string }).message).toMatch(/system:serviceaccount:.*:bob may not patch apps\/deployments pay/);
    const forged = await post(base, id, 'apply', 'eyJhbGciOiJSUzI1NiJ9.not-from-this-cluster.sig');
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { message: string }).message).toMatch(/did not accept the token/);
    const noCsrf = await fetch(`${base}/decisions/${id}/apply`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-remote-user': 'mallory' }, body: 'token=' });
    expect(noCsrf.status).toBe(403);
    expect((await s.admin.get<Deployment>(paths.deployment(s.ns, 'pay'))).spec?.template?.spec?.containers?.[0]?.image).toBe('shop/pay:2');

    const applied = await post(base, id, 'apply', alice.token);
    const body = (await applied.json()) as { ok: boolean; message: string };
    expect(applied.status, body.message).toBe(200);
    expect(body.message).toMatch(new RegExp(`applied by ${alice.user} at .* via web: rolled back from revision 2 to 1`));
    const d = await s.admin.get<Deployment>(paths.deployment(s.ns, 'pay'));
    expect(d.spec?.template?.spec?.containers?.[0]?.image).toBe('shop/pay:1');
    expect(d.metadata?.annotations?.[ANNOTATIONS.rolledBackBy.key]).toBe(alice.user);
    expect(d.metadata?.annotations?.[ANNOTATIONS.blackoutUntil.key]).toBeDefined();
    // The apiserver writes the audit record of a request after answering it: wait for it.
    await waitFor('the audit record of the patch made as alice', async () => {
      const audit = await readFile(s.cp.auditLog, 'utf8');
      const patch = audit.split('\n').filter((l) => l.includes('"verb":"patch"') && l.includes(`/namespaces/${s.ns}/deployments/pay`) && l.includes('"ResponseComplete"'));
      return patch.some((l) => l.includes(`"impersonatedUser":{"username":"${alice.user}"`)) ? true : undefined;
    }, { timeoutMs: 15_000, intervalMs: 250 });

    const again = await post(base, id, 'apply', alice.token);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { message: string }).message).toMatch(new RegExp(`already applied: applied by ${alice.user} at`));
  }, 240_000);

  it('R10 the decision page in Chromium: a denied user sees why, an allowed user applies and sees the new state', async () => {
    const { s, base } = need();
    if (browser === undefined) throw new Error('no browser');
    const id = await openDecision('web');
    const page = await browser.newPage();
    try {
      await page.goto(`${base}/decisions/${id}`);
      expect(await page.locator('#state').innerText()).toMatch(/State: open/);
      expect(await page.locator('.command').innerText()).toMatch(/kubectl rollout undo deployment\/web -n .* --to-revision=1/);
      expect(await page.locator('svg').count()).toBeGreaterThan(0);
      await page.fill('input[name=token]', bob.token);
      await page.click('#apply');
      await page.waitForSelector('#banner');
      expect(await page.locator('#banner').innerText()).toMatch(/bob may not patch/);
      expect((await s.admin.get<Deployment>(paths.deployment(s.ns, 'web'))).spec?.template?.spec?.containers?.[0]?.image).toBe('shop/web:2');
      await page.fill('input[name=token]', alice.token);
      await page.click('#apply');
      await page.waitForSelector('.banner-ok');
      expect(await page.locator('#banner').innerText()).toMatch(/applied by .*alice/);
      expect(await page.locator('#state').innerText()).toMatch(/State: applied/);
      expect(await page.locator('#apply').count()).toBe(0);
      expect((await s.admin.get<Deployment>(paths.deployment(s.ns, 'web'))).spec?.template?.spec?.containers?.[0]?.image).toBe('shop/web:1');
    } finally {
      await page.close();
    }
  }, 240_000);

  it('R10 rollguard decisions lists the open decision and rollguard apply carries it out with the caller’s own credentials, once', async () => {
    const { s } = need();
    const id = await openDecision('api');
    await waitFor('the decision annotation on the Deployment', async () => ((await s.admin.get<Deployment>(paths.deployment(s.ns, 'api'))).metadata?.annotations?.[ANNOTATIONS.decision.key] ?? '').includes(id) || undefined, { timeoutMs: 30_000 });
    // alice may not read rollguard's namespace: the Deployments' record, said so.
    const listed = await runCliAsync(['decisions', '-n', s.ns, '--kubeconfig', alice.kubeconfig, '--rollguard-namespace', s.own]);
    expect(listed.stderr).toMatch(new RegExp(`^note: cannot read the RollbackDecisions in namespace ${s.own} \\(not allowed\\)`));
    expect(listed.stdout).toMatch(new RegExp(`${s.ns}\\s+api\\s+${id}\\s+open\\s+suggest`));
    const json = JSON.parse((await runCliAsync(['decisions', '-n', s.ns, '--kubeconfig', alice.kubeconfig, '--rollguard-namespace', s.own, '-o', 'json'])).stdout) as { id: string; toRevision: number }[];
    expect(json.find((r) => r.id === id)?.toRevision).toBe(1);
    // Someone who may read them gets the objects, in the same schema as GET /decisions.
    const fromObjects = JSON.parse((await runCliAsync(['decisions', '-n', s.ns, '--kubeconfig', s.cp.kubeconfig, '--rollguard-namespace', s.own, '-o', 'json'])).stdout) as Record<string, unknown>[];
    const served = (await (await fetch(`${need().base}/decisions/${id}`)).json()) as Record<string, unknown>;
    expect(fromObjects.find((r) => r.id === id)).toEqual(served);

    const denied = await runCliAsync(['apply', id, '-n', s.ns, '--kubeconfig', bob.kubeconfig]);
    expect(denied.status).toBe(2);
    expect(denied.stderr).toMatch(/forbidden/i);
    expect((await s.admin.get<Deployment>(paths.deployment(s.ns, 'api'))).spec?.template?.spec?.containers?.[0]?.image).toBe('shop/api:2');

    const applied = await runCliAsync(['apply', id, '-n', s.ns, '--kubeconfig', alice.kubeconfig, '--rollguard-namespace', s.own]);
    expect(applied.stderr).toMatch(/^note: cannot read the RollbackDecisions/);
    expect(applied.stdout).toMatch(new RegExp(`rolled back deployment/api -n ${s.ns} from revision 2 to 1; decision ${id}`));
    const d = await s.admin.get<Deployment>(paths.deployment(s.ns, 'api'));
    expect(d.spec?.template?.spec?.containers?.[0]?.image).toBe('shop/api:1');
    expect(d.metadata?.annotations?.[ANNOTATIONS.rolledBackBy.key]).toBe(alice.user);

    const again = await runCliAsync(['apply', id, '-n', s.ns, '--kubeconfig', alice.kubeconfig, '--rollguard-namespace', s.own]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(new RegExp(`cannot be applied: .*${alice.user}`));
    // The agent records it as applied by alice (never superseded by its own effect), with an Event, and the CLI reads it so.
    const { a } = need();
    await waitFor('the decision recorded as applied by alice', () => (a.decisions.get(id)?.state === 'applied' ? true : undefined), { timeoutMs: 20_000, detail: () => JSON.stringify(a.decisions.get(id)) });
    expect(a.decisions.get(id)?.actor?.by).toBe(alice.user);
    const all = await runCliAsync(['decisions', '--all', '-n', s.ns, '--kubeconfig', s.cp.kubeconfig, '--rollguard-namespace', s.own]);
    expect(all.stdout).toMatch(new RegExp(`${s.ns}\\s+api\\s+${id}\\s+applied\\s+suggest\\s+\\S+\\s+\\S+\\s+${alice.user}`));
    const byAdmin = await runCliAsync(['apply', id, '-n', s.ns, '--kubeconfig', s.cp.kubeconfig, '--rollguard-namespace', s.own]);
    expect(byAdmin.stderr).toMatch(new RegExp(`cannot be applied: applied: applied by ${alice.user} at `));
    await waitFor('one RollbackApplied Event', async () => ((await s.admin.get<{ items: { reason: string }[] }>(`${paths.events(s.ns)}?fieldSelector=involvedObject.name=api`)).items.filter((e) => e.reason === 'RollbackApplied').length === 1 ? true : undefined), { timeoutMs: 20_000 });
  }, 240_000);
});

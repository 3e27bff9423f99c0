import { afterAll, beforeAll, expect, it } from 'vitest';
import { isRollguardKey } from '../../src/core/annotations.js';
import type { Deployment } from '../../src/core/kube.js';
import { paths } from '../../src/kube/rest.js';
import { agentProcessArgs, deploymentManifest, deployThenRegress, POLICY, rolledOut } from '../support/agent-helpers.js';
import { restartApiserver } from '../support/apiserver-restart.js';
import { adminControlPlane } from '../support/control-plane-admin.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, describeWithControlPlane } from '../support/control-plane.js';
import { ENABLE_HINT, launchControlPlane, locateControlPlane, type LaunchedControlPlane } from '../support/control-plane-launch.js';
import { freePort, httpOk, type ManagedProcess } from '../support/process.js';
import { startStack, type Stack } from '../support/rollguard-stack.js';
import { waitFor } from '../support/wait.js';

// F4 R7 (issue 17): the kube-apiserver process killed for 30 s and started again, on a control plane
// of this file's own (the run's shared one serves every other test). Before the fix readiness
// stayed 503 "not synced: Deployments" for minutes after the apiserver was back, which in a cluster
// takes both agent replicas out of their Service. The agent runs as the real process, with the
// real webhook in front of the apiserver.

const DOWN_MS = 30_000;
/** The watch backoff's cap (30 s) with its +20% jitter, plus a relist on a busy machine. */
const READY_AGAIN_WITHIN_MS = 45_000;

function rollguardAnnotations(d: Deployment | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(d?.metadata?.annotations ?? {}).filter(([k]) => isRollguardKey(k)));
}

/** When `url` first answers 200 (epoch ms), polled through the apiserver's return; on a timeout, `log` says why. */
function readyAgain(what: string, url: string, log: () => string): Promise<number> {
  return waitFor(`${what} /readyz 200 after the apiserver is back`, async () => ((await httpOk(url)) ? Date.now() : undefined), { timeoutMs: 4 * 60_000, intervalMs: 250, detail: log });
}

describeWithControlPlane('F4 R7 the agent through a kube-apiserver restart', () => {
  let launched: LaunchedControlPlane | undefined;
  let stack: Stack | undefined;
  let agent: ManagedProcess | undefined;
  let readyz = '';

  beforeAll(async () => {
    const located = locateControlPlane();
    if (!located.ok) throw new Error(`no Kubernetes control plane (${located.reason}); ${ENABLE_HINT}`);
    launched = await launchControlPlane(located, { timeoutMs: CONTROL_PLANE_START_TIMEOUT_MS });
    const s = await startStack({ prefix: 'restart', controlPlane: adminControlPlane(launched.facts), services: [{ service: 'web' }, { service: 'pay' }], policy: POLICY });
    stack = s;
    const port = await freePort();
    readyz = `http://127.0.0.1:${String(port)}/readyz`;
    agent = await s.startCli('agent-restart', agentProcessArgs(s, 'restart-a', port), () => httpOk(readyz));
  }, CONTROL_PLANE_START_TIMEOUT_MS + 120_000);

  afterAll(async () => {
    await agent?.stop(5000);
    await stack?.stop();
    await launched?.stop();
  }, 90_000);

  it('F4 readiness comes back with the watches, and a deploy that regresses afterwards is stamped, judged and rolled back', async () => {
    const s = stack;
    if (s === undefined || launched === undefined || agent === undefined) throw new Error('setup failed');
    await s.admin.create(`/apis/apps/v1/namespaces/${s.ns}/deployments`, deploymentManifest('web', 'shop/web:1'));
    await rolledOut(s, s.ns, 'web', 'shop/web:1');
    await waitFor('the agent ready with a Deployment watched', () => httpOk(readyz), { timeoutMs: 30_000 });

    const restart = await restartApiserver(launched.facts, DOWN_MS);
    const notReadyDuring = await fetch(readyz).then((r) => r.status, () => 0);
    const readyAgainAt = await readyAgain('the agent', readyz, () => agent?.logTail() ?? '');
    // The webhook stamps a deploy's change set from its ConfigMap/Secret watches: admitted while
    // they are down, a deploy is stamped "unknown" and never rolled back automatically (F1). Once
    // this test deployed while the agent was ready again and the webhook was not yet, and waited
    // for a rollback that rightly never came.
    const webhookReadyAt = await readyAgain('the webhook', s.webhookReadyz, () => s.webhook.logTail());
    expect(agent.running(), 'the agent process lived through the outage').toBe(true);
    expect(readyAgainAt - restart.readyAt, `ready again ${String(readyAgainAt - restart.readyAt)} ms after the apiserver (first answer after it: ${String(notReadyDuring)})`).toBeLessThanOrEqual(READY_AGAIN_WITHIN_MS);
    expect(webhookReadyAt - restart.readyAt, `the webhook ready again ${String(webhookReadyAt - restart.readyAt)} ms after the apiserver; its log:\n${s.webhook.logTail()}`).toBeLessThanOrEqual(READY_AGAIN_WITHIN_MS);

    // Working, not only ready: the webhook stamps the deploy, the agent judges the regression and rolls back.
    await deployThenRegress(s, 'pay');
    let last: Deployment | undefined;
    const back = await waitFor('pay rolled back to :1', async () => {
      last = await s.admin.get<Deployment>(paths.deployment(s.ns, 'pay'));
      return last.spec?.template?.spec?.containers?.[0]?.image === 'shop/pay:1' ? last : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500, detail: () => `pay's rollguard annotations: ${JSON.stringify(rollguardAnnotations(last))}\nthe agent's log:\n${agent?.logTail() ?? ''}\nthe webhook's log:\n${s.webhook.logTail()}` });
    expect(Object.keys(rollguardAnnotations(back)).length).toBeGreaterThan(0);
  }, 8 * 60_000);
}, { start: false });

import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClusterState } from '../../src/agent/cluster-state.js';
import { LAST_APPLIED } from '../../src/agent/kept-objects.js';
import type { Deployment } from '../../src/core/kube.js';
import { planRollback } from '../../src/core/rollback-plan.js';
import { isStatus, KubeRest, paths } from '../../src/kube/rest.js';
import { controlPlane, describeWithControlPlane } from '../support/control-plane.js';
import { createTestNamespace, type TestNamespace } from '../support/namespaces.js';
import { waitFor } from '../support/wait.js';

// The agent's cache leaves kubectl's last-applied copy out of each Deployment; a rollback, which
// carries it over as `kubectl rollout undo` does, reads it again from the apiserver, on the
// real control plane (replicas 0: the deployment controller makes the ReplicaSets, no Pods needed).

const deployment = (name: string, image: string): Deployment => {
  const d: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, annotations: {} },
    spec: { replicas: 0, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } } },
  };
  return { ...d, metadata: { ...d.metadata, annotations: { [LAST_APPLIED]: JSON.stringify(d) } } };
};

describeWithControlPlane('R7 a rollback carries over the last-applied copy the agent does not cache', () => {
  let ns: TestNamespace | undefined;
  let state: ClusterState | undefined;
  let rest: KubeRest;

  beforeAll(async () => {
    const cp = await controlPlane();
    rest = new KubeRest(cp.kubeConfig);
    ns = await createTestNamespace('kept-deploy');
    state = new ClusterState({ kubeConfig: cp.kubeConfig, logger: pino({ level: 'silent' }), clock: Date.now });
    await state.start();
  }, 120_000);

  afterAll(async () => {
    await state?.stop();
    await ns?.cleanup();
  }, 60_000);

  async function atRevision2(name: string): Promise<Deployment> {
    if (ns === undefined || state === undefined) throw new Error('not set up');
    const s = state;
    const namespace = ns.name;
    await rest.create(`/apis/apps/v1/namespaces/${namespace}/deployments`, deployment(name, 'shop/app:1'));
    await waitFor('revision 1', () => s.deployment(namespace, name)?.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '1', { timeoutMs: 30_000 });
    await rest.patch(paths.deployment(namespace, name), 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'shop/app:2' }] } } } });
    return waitFor('revision 2 and both ReplicaSets in the cache', () => {
      const d = s.deployment(namespace, name);
      const ok = d?.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2' && s.replicaSetsIn(namespace).filter((rs) => rs.metadata?.name?.startsWith(`${name}-`)).length === 2;
      return ok ? d : undefined;
    }, { timeoutMs: 30_000 });
  }

  it('caches the Deployment without it, reads it again for the rollback, and the rollback keeps it as kubectl does', async () => {
    if (ns === undefined || state === undefined) throw new Error('not set up');
    const cached = await atRevision2('web');
    expect(cached.metadata?.annotations?.[LAST_APPLIED]).toBeUndefined();
    const live = await rest.get<Deployment>(paths.deployment(ns.name, 'web'));
    const full = await state.deploymentForRollback(cached);
    expect(full.metadata?.annotations).toEqual(live.metadata?.annotations);
    const plan = planRollback({ deployment: full, replicaSets: await state.replicaSetsForRollback(full, 1, pino({ level: 'silent' })), toRevision: 1, record: {} });
    if (!plan.ok) throw new Error(plan.message);
    const after = await rest.patch<Deployment>(paths.deployment(ns.name, 'web'), 'json', plan.ops);
    expect(after.metadata?.annotations?.[LAST_APPLIED]).toBe(live.metadata?.annotations?.[LAST_APPLIED]);
    expect(after.spec?.template?.spec?.containers?.[0]?.image).toBe('shop/app:1');
  }, 90_000);

  it('keeps the ReplicaSets as compact records: no labels, only the controlling owner', async () => {
    if (ns === undefined || state === undefined) throw new Error('not set up');
    await atRevision2('api');
    const records = state.replicaSetsIn(ns.name).filter((rs) => rs.metadata?.name?.startsWith('api-'));
    expect(records).toHaveLength(2);
    for (const rs of records) {
      expect(rs.metadata?.labels).toBeUndefined();
      expect(rs.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'Deployment', name: 'api', controller: true })]);
    }
  }, 90_000);

  it('F1 uses the cached Deployment when the apiserver has moved on (the write is then refused), and throws when it cannot read it', async () => {
    if (ns === undefined || state === undefined) throw new Error('not set up');
    const s = state;
    const namespace = ns.name;
    const cached = await atRevision2('cart');
    await rest.patch(paths.deployment(namespace, 'cart'), 'merge', { metadata: { annotations: { touched: 'yes' } } });
    await waitFor('the touch in the cache', () => s.deployment(namespace, 'cart')?.metadata?.annotations?.touched === 'yes', { timeoutMs: 30_000 });
    const stale = await s.deploymentForRollback(cached);
    expect(stale).toBe(cached);
    const plan = planRollback({ deployment: stale, replicaSets: await s.replicaSetsForRollback(stale, 1, pino({ level: 'silent' })), toRevision: 1, record: {} });
    if (!plan.ok) throw new Error(plan.message);
    const refused = await rest.patch(paths.deployment(namespace, 'cart'), 'json', plan.ops).then(() => undefined, (err: unknown) => err);
    expect(isStatus(refused, 409, 422)).toBe(true);
    const current = s.deployment(namespace, 'cart');
    if (current === undefined) throw new Error('gone from the cache');
    await rest.request('DELETE', paths.deployment(namespace, 'cart'));
    await expect(s.deploymentForRollback(current)).rejects.toThrow();
  }, 90_000);
});

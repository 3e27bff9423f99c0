import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, PatchStrategy, VersionApi, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { controlPlane, describeWithControlPlane } from './control-plane.js';
import type { ControlPlane } from './control-plane.js';
import type { ControlPlaneFacts } from './control-plane-context.js';
import { createDeployment, replicaSetsOf, revisionOf, rolloutComplete, testDeployment, waitForRollout } from './deployments.js';
import { createObject } from './kube-json.js';
import { startKubelet } from './kubelet.js';
import { TEST_NAMESPACE_LABEL, createTestNamespace } from './namespaces.js';
import type { TestNamespace } from './namespaces.js';
import { waitFor } from './wait.js';

// The real control plane of ../shared/k8s and the helpers around it: connection facts, test
// namespaces, and the kubelet stand-in driving real rollouts through the deployment and ReplicaSet
// controllers, down to `kubectl rollout undo`.

function getWithToken(url: string, token: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const imageOf = (d: V1Deployment) => d.spec?.template.spec?.containers[0]?.image;

describeWithControlPlane('the shared Kubernetes control plane', () => {
  let cp: ControlPlane;
  beforeAll(async () => {
    cp = await controlPlane();
  });

  it('is a kube-apiserver 1.20 on loopback that the admin token and CA of its facts open', async () => {
    expect(cp.apiserverUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(cp.kubeConfig.getCurrentCluster()?.server).toBe(cp.apiserverUrl);
    const version = await cp.kubeConfig.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe('v1.20.2');

    const ca = await readFile(cp.caFile, 'utf8');
    const withToken = await getWithToken(`${cp.apiserverUrl}/api/v1/namespaces/kube-system`, cp.adminToken, ca);
    expect(withToken.status).toBe(200);
    expect((JSON.parse(withToken.body) as { metadata: { name: string } }).metadata.name).toBe('kube-system');
    const wrongToken = await getWithToken(`${cp.apiserverUrl}/api/v1/namespaces/kube-system`, 'not-the-token', ca);
    expect(wrongToken.status).toBe(401);
  });

  it('is one instance per run: the main process hands every caller the same one', async () => {
    const ctx = inject('rollguardControlPlane');
    if (ctx.brokerUrl === undefined) throw new Error('no broker although the control plane is up');
    const again = (await (await fetch(ctx.brokerUrl, { method: 'POST' })).json()) as ControlPlaneFacts;
    expect(again.workDir).toBe(cp.workDir);
    expect(again.apiserverUrl).toBe(cp.apiserverUrl);
    expect(again.env.APISERVER_PID).toMatch(/^\d+$/);
    expect((await controlPlane()).workDir).toBe(cp.workDir);
  });

  it('writes what the admin changes to the JSON audit log of its facts', async () => {
    const ns = await createTestNamespace('cp-audit');
    try {
      await createObject(cp.kubeConfig, `/api/v1/namespaces/${ns.name}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'audited' }, data: { k: 'v' } });
      const entry = await waitFor('the ConfigMap create in the audit log', async () => {
        const lines = (await readFile(cp.auditLog, 'utf8')).trimEnd().split('\n');
        return lines
          .map((l) => JSON.parse(l) as { verb: string; stage: string; user: { username: string }; objectRef?: { namespace?: string; name?: string; resource?: string } })
          .find((e) => e.verb === 'create' && e.stage === 'ResponseComplete' && e.objectRef?.resource === 'configmaps' && e.objectRef.namespace === ns.name && e.objectRef.name === 'audited');
      });
      expect(entry.user.username).toBe('admin');
    } finally {
      await ns.cleanup();
    }
  });

  describe('test namespaces', () => {
    it('are unique, labelled with their name, usable for Pods at once, and deleted by cleanup', async () => {
      const [a, b] = await Promise.all([createTestNamespace('cp-ns'), createTestNamespace('cp-ns')]);
      const core = cp.kubeConfig.makeApiClient(CoreV1Api);
      try {
        expect(a.name).toMatch(/^cp-ns-[0-9a-f]{8}$/);
        expect(b.name).not.toBe(a.name);
        expect((await core.readNamespace({ name: a.name })).metadata?.labels?.[TEST_NAMESPACE_LABEL]).toBe(a.name);
        // The ServiceAccount admission plugin would refuse this Pod if the token were not there yet.
        const pod = await createObject<V1Pod>(cp.kubeConfig, `/api/v1/namespaces/${a.name}/pods`, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p' },
          spec: { containers: [{ name: 'c', image: 'registry.example/x:1' }] },
        });
        expect(pod.spec?.serviceAccountName).toBe('default');
        expect(pod.spec?.volumes?.some((v) => v.secret?.secretName?.startsWith('default-token-') === true)).toBe(true);
      } finally {
        await Promise.all([a.cleanup({ wait: true }), b.cleanup()]);
      }
      await expect(core.readNamespace({ name: a.name })).rejects.toMatchObject({ code: 404 });
      await expect(b.cleanup()).resolves.toBeUndefined();
    });

    it('turns an odd prefix into a valid name', async () => {
      const ns = await createTestNamespace('Odd_Prefix!');
      await ns.cleanup();
      expect(ns.name).toMatch(/^odd-prefix-[0-9a-f]{8}$/);
    });
  });

  describe('kubelet stand-in', () => {
    let apps: AppsV1Api;
    let core: CoreV1Api;
    beforeAll(() => {
      apps = cp.kubeConfig.makeApiClient(AppsV1Api);
      core = cp.kubeConfig.makeApiClient(CoreV1Api);
    });

    /** A fresh namespace for the current test, deleted when it ends. */
    async function namespaceForTest(prefix: string): Promise<TestNamespace> {
      const ns = await createTestNamespace(prefix);
      onTestFinished(() => ns.cleanup());
      return ns;
    }

    const setImage = (namespace: string, name: string, image: string) =>
      apps.patchNamespacedDeployment(
        { name, namespace, body: { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );

    it('lets a rollout complete through the real controllers, and kubectl rollout undo roll it back', async () => {
      const ns = await namespaceForTest('cp-rollout');
      const kubelet = await startKubelet({ kubeConfig: cp.kubeConfig, namespace: ns.name });
      onTestFinished(() => kubelet.stop());
      await createDeployment(cp.kubeConfig, ns.name, testDeployment('web', { image: 'registry.example/web:1', replicas: 2 }));
      const first = await waitForRollout(cp.kubeConfig, ns.name, 'web');
      expect(revisionOf(first)).toBe('1');

      await setImage(ns.name, 'web', 'registry.example/web:2');
      const second = await waitForRollout(cp.kubeConfig, ns.name, 'web');
      expect(second.metadata?.generation).toBe(2);
      expect(second.status).toMatchObject({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
      expect(revisionOf(second)).toBe('2');
      expect(imageOf(second)).toBe('registry.example/web:2');
      const sets = await replicaSetsOf(cp.kubeConfig, ns.name, second);
      expect(sets.map((rs) => [revisionOf(rs), rs.spec?.replicas, rs.spec?.template?.spec?.containers[0]?.image])).toEqual([
        ['1', 0, 'registry.example/web:1'],
        ['2', 2, 'registry.example/web:2'],
      ]);

      const pods = (await core.listNamespacedPod({ namespace: ns.name })).items.filter((p: V1Pod) => p.metadata?.deletionTimestamp === undefined);
      expect(pods).toHaveLength(2);
      for (const p of pods) {
        expect(p.status?.phase).toBe('Running');
        expect(p.status?.podIP).toMatch(/^127\.\d+\.\d+\.\d+$/);
        expect(p.status?.containerStatuses?.map((c) => [c.name, c.ready, c.image])).toEqual([['app', true, 'registry.example/web:2']]);
        expect(p.spec?.containers[0]?.image).toBe('registry.example/web:2');
      }
      expect(kubelet.readied).toHaveLength(4);
      expect(kubelet.errors).toEqual([]);

      const undo = await cp.kubectl(['rollout', 'undo', 'deployment/web', '--to-revision=1', '-n', ns.name]);
      expect(undo.stdout).toMatch(/deployment\.apps\/web rolled back/);
      const third = await waitForRollout(cp.kubeConfig, ns.name, 'web');
      expect(imageOf(third)).toBe('registry.example/web:1');
      // A rollback re-uses revision 1's ReplicaSet, which becomes revision 3.
      expect(revisionOf(third)).toBe('3');
      const after = await replicaSetsOf(cp.kubeConfig, ns.name, third);
      expect(after.map((rs) => [revisionOf(rs), rs.spec?.replicas])).toEqual([
        ['2', 0],
        ['3', 2],
      ]);
      const status = await cp.kubectl(['rollout', 'status', 'deployment/web', '-n', ns.name, '--timeout=10s']);
      expect(status.stdout).toMatch(/successfully rolled out/);
      expect(kubelet.errors).toEqual([]);
    });

    it('holds the pods a predicate names, freezing a rollout half way until released', async () => {
      const ns = await namespaceForTest('cp-hold');
      const held = await startKubelet({ kubeConfig: cp.kubeConfig, namespace: ns.name, hold: (p) => p.spec?.containers[0]?.image === 'registry.example/api:2' });
      onTestFinished(() => held.stop());
      await createDeployment(cp.kubeConfig, ns.name, testDeployment('api', { image: 'registry.example/api:1', replicas: 4 }));
      await waitForRollout(cp.kubeConfig, ns.name, 'api');
      await setImage(ns.name, 'api', 'registry.example/api:2');
      // 25% surge and 25% unavailable of 4: two new Pods, three old ones kept, and there it stays.
      const halfWay = { observedGeneration: 2, updatedReplicas: 2, availableReplicas: 3, replicas: 5 };
      const read = () => apps.readNamespacedDeployment({ name: 'api', namespace: ns.name });
      let last: V1Deployment | undefined;
      await waitFor(
        'the rollout to stop half way',
        async () => {
          last = await read();
          const s = last.status;
          return s?.observedGeneration === 2 && s.updatedReplicas === 2 && s.availableReplicas === 3 && s.replicas === 5 && held.held().length === 2;
        },
        { detail: () => `status ${JSON.stringify(last?.status)}, held ${JSON.stringify(held.held().map((p) => p.metadata?.name))}` },
      );
      await sleep(1500);
      const frozen = await read();
      expect(frozen.status).toMatchObject(halfWay);
      expect(rolloutComplete(frozen)).toBe(false);
      expect(held.held().map((p) => p.status?.phase)).toEqual(['Pending', 'Pending']);

      held.setHold(undefined);
      const done = await waitForRollout(cp.kubeConfig, ns.name, 'api');
      expect(imageOf(done)).toBe('registry.example/api:2');
      expect(revisionOf(done)).toBe('2');
      expect(held.held()).toEqual([]);
      expect(held.errors).toEqual([]);
    });
  });
});

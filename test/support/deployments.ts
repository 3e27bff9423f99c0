import { AppsV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import { createObject } from './kube-json.js';
import { waitFor } from './wait.js';

// Deployments on the real control plane: a minimal manifest, its revision, and waiting for a
// rollout the way `kubectl rollout status` judges it.

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

/** The wire JSON of a Deployment, as far as tests write it. */
export interface DeploymentManifest {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    strategy?: unknown;
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: { containers: { name: string; image: string; [field: string]: unknown }[]; [field: string]: unknown };
    };
    [field: string]: unknown;
  };
}

export function testDeployment(name: string, opts: { image?: string; replicas?: number; labels?: Record<string, string> } = {}): DeploymentManifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name, ...opts.labels } },
    spec: {
      replicas: opts.replicas ?? 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: opts.image ?? 'registry.example/test/app:1' }] },
      },
    },
  };
}

export function createDeployment(kubeConfig: KubeConfig, namespace: string, manifest: DeploymentManifest): Promise<V1Deployment> {
  return createObject<V1Deployment>(kubeConfig, `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`, manifest);
}

export function revisionOf(obj: V1Deployment | V1ReplicaSet): string | undefined {
  return obj.metadata?.annotations?.[REVISION_ANNOTATION];
}

/** The controller has seen the latest spec and every replica is updated and available, none old left. */
export function rolloutComplete(d: V1Deployment): boolean {
  const want = d.spec?.replicas ?? 1;
  const s = d.status;
  return (
    s !== undefined &&
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want
  );
}

export async function waitForRollout(kubeConfig: KubeConfig, namespace: string, name: string, opts: { timeoutMs?: number } = {}): Promise<V1Deployment> {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  let last: V1Deployment | undefined;
  return waitFor(
    `the rollout of deployment ${namespace}/${name} to complete`,
    async () => {
      last = await apps.readNamespacedDeployment({ name, namespace });
      return rolloutComplete(last) ? last : undefined;
    },
    { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 200, detail: () => `last generation ${String(last?.metadata?.generation)}, status ${JSON.stringify(last?.status)}` },
  );
}

/** The Deployment's ReplicaSets (owned by it), oldest revision first. */
export async function replicaSetsOf(kubeConfig: KubeConfig, namespace: string, deployment: V1Deployment): Promise<V1ReplicaSet[]> {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const uid = deployment.metadata?.uid;
  const list = await apps.listNamespacedReplicaSet({ namespace });
  return list.items
    .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === uid && o.controller === true))
    .sort((a, b) => Number(revisionOf(a) ?? 0) - Number(revisionOf(b) ?? 0));
}

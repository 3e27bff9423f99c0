import { randomBytes } from 'node:crypto';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { controlPlane } from './control-plane.js';
import { createObject } from './kube-json.js';
import { waitFor } from './wait.js';

/**
 * Every test namespace carries this label with its own name as the value: Kubernetes 1.20 has no
 * kubernetes.io/metadata.name label, and a webhook's namespaceSelector needs something to match
 * so that one test's webhook never sees another test's objects.
 */
export const TEST_NAMESPACE_LABEL = 'rollguard.test/namespace';

export interface TestNamespace {
  name: string;
  /** Deletes the namespace (gone already is fine); with wait, until the apiserver no longer has it. */
  cleanup(opts?: { wait?: boolean; timeoutMs?: number }): Promise<void>;
}

export interface CreateTestNamespaceOptions {
  /** Default: the run's control plane admin. */
  kubeConfig?: KubeConfig;
  labels?: Record<string, string>;
  timeoutMs?: number;
}

function is404(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

function namespaceName(prefix: string): string {
  const base = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || 'test';
  return `${base}-${randomBytes(4).toString('hex')}`;
}

/**
 * Creates `<prefix>-<random>` and waits until its default ServiceAccount has its token Secret:
 * on 1.20 the ServiceAccount admission plugin rejects Pods until then, and the ReplicaSet
 * controller would only retry them with back-off.
 */
export async function createTestNamespace(prefix: string, opts: CreateTestNamespaceOptions = {}): Promise<TestNamespace> {
  const kc = opts.kubeConfig ?? (await controlPlane()).kubeConfig;
  const core = kc.makeApiClient(CoreV1Api);
  const name = namespaceName(prefix);
  await createObject(kc, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...opts.labels, [TEST_NAMESPACE_LABEL]: name } } });
  const cleanup: TestNamespace['cleanup'] = async ({ wait = false, timeoutMs = 60_000 } = {}) => {
    try {
      await core.deleteNamespace({ name });
    } catch (err) {
      if (!is404(err)) throw err;
    }
    if (!wait) return;
    await waitFor(
      `namespace ${name} to be deleted`,
      async () => {
        try {
          await core.readNamespace({ name });
          return false;
        } catch (err) {
          if (is404(err)) return true;
          throw err;
        }
      },
      { timeoutMs, intervalMs: 250 },
    );
  };
  try {
    let last: unknown;
    await waitFor(
      `the default ServiceAccount of namespace ${name} and its token`,
      async () => {
        const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
        last = sa;
        return (sa.secrets ?? []).length > 0;
      },
      { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 200, detail: () => `last seen: ${JSON.stringify(last)}` },
    );
  } catch (err) {
    await cleanup().catch(() => undefined);
    throw err;
  }
  return { name, cleanup };
}

import type { KubernetesObject } from '@kubernetes/client-node';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { inClusterConnection } from '../../src/kube/in-cluster.js';
import { Informer } from '../../src/kube/informer.js';
import { loadKubeConnection } from '../../src/kube/kubeconfig.js';
import { KubeApiError, KubeRest } from '../../src/kube/rest.js';
import { SERVICE_ACCOUNT_DIR } from '../../src/kube/service-account.js';
import { controlPlane, describeWithControlPlane, type ControlPlane } from '../support/control-plane.js';
import { until } from '../support/kube-api-server.js';

// The pod's service account, read without client-node, against the real apiserver: the same files
// a Pod gets (token, ca.crt) and the same environment (KUBERNETES_SERVICE_HOST/PORT).

let cp: ControlPlane;
let root: string;

function writeToken(token: string): void {
  writeFileSync(join(root, SERVICE_ACCOUNT_DIR, 'token'), token);
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describeWithControlPlane('F5 the in-cluster connection, as a Pod has it', () => {
  beforeAll(async () => {
    cp = await controlPlane();
    root = mkdtempSync(join(tmpdir(), 'rollguard-pod-'));
    mkdirSync(join(root, SERVICE_ACCOUNT_DIR), { recursive: true });
    copyFileSync(cp.caFile, join(root, SERVICE_ACCOUNT_DIR, 'ca.crt'));
  });

  function podEnv(): void {
    const url = new URL(cp.apiserverUrl);
    vi.stubEnv('KUBECONFIG', '');
    vi.stubEnv('KUBERNETES_SERVICE_HOST', url.hostname);
    vi.stubEnv('KUBERNETES_SERVICE_PORT', url.port);
  }

  it('reads, lists and watches with the mounted token, verifying the apiserver against the mounted CA', async () => {
    podEnv();
    writeToken(cp.adminToken);
    const conn = await loadKubeConnection({}, root);
    expect(conn.source).toBe("the pod's service account");
    const rest = new KubeRest(conn);
    expect((await rest.get<{ gitVersion: string }>('/version')).gitVersion).toMatch(/^v1\./);
    const informer = new Informer<KubernetesObject>({ kubeConfig: conn, path: '/api/v1/namespaces', metadataOnly: true, logger: pino({ level: 'silent' }), clock: Date.now });
    await informer.start();
    await until('the namespaces are listed', () => informer.synced() && informer.get('', 'kube-system') !== undefined);
    const name = `in-cluster-${String(Date.now())}`;
    await rest.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    await until('the new namespace arrives through the watch', () => informer.get('', name) !== undefined);
    await informer.stop();
  });

  it('reads the rotated token once a minute, keeping the one it has in between', async () => {
    podEnv();
    writeToken(cp.adminToken);
    let now = 0;
    const rest = new KubeRest(inClusterConnection(root, () => now));
    await rest.get('/version');
    writeToken('revoked-token');
    now += 30_000;
    await rest.get('/api/v1/namespaces/default');
    now += 31_000;
    const refused = await rest.get('/api/v1/namespaces/default').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect((refused as KubeApiError).status).toBe(401);
    writeToken(cp.adminToken);
    now += 60_000;
    await rest.get('/api/v1/namespaces/default');
  });
});

describe('F5 the in-cluster connection with no apiserver to reach', () => {
  it('says it cannot reach the API server, naming the address it tried', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollguard-pod-'));
    mkdirSync(join(dir, SERVICE_ACCOUNT_DIR), { recursive: true });
    writeFileSync(join(dir, SERVICE_ACCOUNT_DIR, 'token'), 't');
    writeFileSync(join(dir, SERVICE_ACCOUNT_DIR, 'ca.crt'), 'unused: the connection is refused before TLS');
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '127.0.0.1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '1');
    const err = await new KubeRest(inClusterConnection(dir)).get('/version').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).message).toMatch(/cannot reach the API server at https:\/\/127\.0\.0\.1:1/);
  });
});

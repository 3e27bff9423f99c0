import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubeConfigError, loadKubeConnection } from '../../src/kube/kubeconfig.js';
import { SERVICE_ACCOUNT_DIR } from '../../src/kube/service-account.js';

// One loader for every verb that talks to a cluster (inspect, webhook, agent): an explicit file,
// else KUBECONFIG, else the pod's service account, else ~/.kube/config; a clear error otherwise.

const dir = mkdtempSync(join(tmpdir(), 'rollguard-kubeconfig-'));
const file = join(dir, 'config');
writeFileSync(
  file,
  `apiVersion: v1
kind: Config
clusters: [{name: a, cluster: {server: "https://127.0.0.1:6441"}}, {name: b, cluster: {server: "https://127.0.0.1:6442"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: first, context: {cluster: a, user: u}}, {name: second, context: {cluster: b, user: u}}]
current-context: first
`,
);
const home = join(dir, 'home');
mkdirSync(home);

/** A fake pod filesystem: the service-account token and namespace under `root`. */
function podRoot(): string {
  const root = mkdtempSync(join(dir, 'pod-'));
  mkdirSync(join(root, SERVICE_ACCOUNT_DIR), { recursive: true });
  writeFileSync(join(root, SERVICE_ACCOUNT_DIR, 'token'), 'pod-token');
  writeFileSync(join(root, SERVICE_ACCOUNT_DIR, 'ca.crt'), 'not read until a request is made');
  writeFileSync(join(root, SERVICE_ACCOUNT_DIR, 'namespace'), 'rollguard-ops');
  return root;
}

beforeEach(() => {
  vi.stubEnv('KUBECONFIG', '');
  vi.stubEnv('HOME', home);
  vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const server = async (opts: Parameters<typeof loadKubeConnection>[0], root?: string): Promise<string> => (await loadKubeConnection(opts, root)).server;

describe('F5 loadKubeConnection finds the cluster the way kubectl does', () => {
  it('reads --kubeconfig, with its current context or the one given', async () => {
    expect(await server({ kubeconfig: file })).toBe('https://127.0.0.1:6441');
    expect(await server({ kubeconfig: file, context: 'second' })).toBe('https://127.0.0.1:6442');
  });

  it('reads KUBECONFIG when no file is given, even inside a pod', async () => {
    vi.stubEnv('KUBECONFIG', file);
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '10.96.0.1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '443');
    expect(await server({ context: 'second' }, podRoot())).toBe('https://127.0.0.1:6442');
  });

  it('uses the in-cluster service account in a pod, before ~/.kube/config', async () => {
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(join(home, '.kube', 'config'), `apiVersion: v1\nkind: Config\nclusters: [{name: h, cluster: {server: "https://127.0.0.1:6443"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: h, context: {cluster: h, user: u}}]\ncurrent-context: h\n`);
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '10.96.0.1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '443');
    expect(await server({}, podRoot())).toBe('https://10.96.0.1:443');
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
    expect(await server({}, podRoot())).toBe('https://127.0.0.1:6443');
  });
});

describe('F5 loadKubeConnection says what is wrong', () => {
  it.each([
    ['a missing --kubeconfig file', { kubeconfig: join(dir, 'nope') }, /kubeconfig file .*nope does not exist/],
    ['an unknown --context, naming the ones there are', { kubeconfig: file, context: 'third' }, /context "third" is not in .*config \(contexts: first, second\)/],
    ['a file that is not a kubeconfig', { kubeconfig: join(dir, 'home') }, /cannot load the kubeconfig .*home/],
  ])('%s', async (_label, opts, message) => {
    await expect(loadKubeConnection(opts)).rejects.toThrow(KubeConfigError);
    await expect(loadKubeConnection(opts)).rejects.toThrow(message);
  });

  it('a missing KUBECONFIG file', async () => {
    vi.stubEnv('KUBECONFIG', join(dir, 'gone'));
    await expect(loadKubeConnection({})).rejects.toThrow(/KUBECONFIG names .*gone, which does not exist/);
  });

  it('a --context in a pod without a kubeconfig, or a pod without its CA certificate', async () => {
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '10.96.0.1');
    await expect(loadKubeConnection({ context: 'prod' }, podRoot())).rejects.toThrow(/--context prod names a kubeconfig context, but there is no kubeconfig/);
    const noCa = podRoot();
    rmSync(join(noCa, SERVICE_ACCOUNT_DIR, 'ca.crt'));
    await expect(loadKubeConnection({}, noCa)).rejects.toThrow(/cannot read the service account's CA certificate at .*ca\.crt/);
  });

  it('nothing to go on: no file, no KUBECONFIG, not in a pod, no ~/.kube/config', async () => {
    vi.stubEnv('HOME', join(dir, 'empty-home'));
    await expect(loadKubeConnection({}, podRoot())).rejects.toThrow(/no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG, or run in a pod/);
  });
});

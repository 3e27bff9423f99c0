import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubeConfigError, loadKubeConfig } from '../../src/kube/kubeconfig.js';
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

const server = (opts: Parameters<typeof loadKubeConfig>[0], root?: string): string | undefined => loadKubeConfig(opts, root).getCurrentCluster()?.server;

describe('F5 loadKubeConfig finds the cluster the way kubectl does', () => {
  it('reads --kubeconfig, with its current context or the one given', () => {
    expect(server({ kubeconfig: file })).toBe('https://127.0.0.1:6441');
    expect(server({ kubeconfig: file, context: 'second' })).toBe('https://127.0.0.1:6442');
  });

  it('reads KUBECONFIG when no file is given, even inside a pod', () => {
    vi.stubEnv('KUBECONFIG', file);
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '10.96.0.1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '443');
    expect(server({ context: 'second' }, podRoot())).toBe('https://127.0.0.1:6442');
  });

  it('uses the in-cluster service account in a pod, before ~/.kube/config', () => {
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(join(home, '.kube', 'config'), `apiVersion: v1\nkind: Config\nclusters: [{name: h, cluster: {server: "https://127.0.0.1:6443"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: h, context: {cluster: h, user: u}}]\ncurrent-context: h\n`);
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '10.96.0.1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '443');
    expect(server({}, podRoot())).toBe('https://10.96.0.1:443');
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
    expect(server({}, podRoot())).toBe('https://127.0.0.1:6443');
  });
});

describe('F5 loadKubeConfig says what is wrong', () => {
  it.each([
    ['a missing --kubeconfig file', { kubeconfig: join(dir, 'nope') }, /kubeconfig file .*nope does not exist/],
    ['an unknown --context, naming the ones there are', { kubeconfig: file, context: 'third' }, /context "third" is not in .*config \(contexts: first, second\)/],
    ['a file that is not a kubeconfig', { kubeconfig: join(dir, 'home') }, /cannot load the kubeconfig .*home/],
  ])('%s', (_label, opts, message) => {
    expect(() => loadKubeConfig(opts)).toThrow(KubeConfigError);
    expect(() => loadKubeConfig(opts)).toThrow(message);
  });

  it('a missing KUBECONFIG file', () => {
    vi.stubEnv('KUBECONFIG', join(dir, 'gone'));
    expect(() => loadKubeConfig({})).toThrow(/KUBECONFIG names .*gone, which does not exist/);
  });

  it('nothing to go on: no file, no KUBECONFIG, not in a pod, no ~/.kube/config', () => {
    vi.stubEnv('HOME', join(dir, 'empty-home'));
    expect(() => loadKubeConfig({}, podRoot())).toThrow(/no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG, or run in a pod/);
  });
});

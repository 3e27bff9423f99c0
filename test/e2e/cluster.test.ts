import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCliAsync } from '../support/run-cli.js';

// Opt-in: runs against the real cluster KUBECONFIG points at, read-only. Without one it is skipped
// and says so, because these machines have no API server.

const kubeconfig = process.env.KUBECONFIG;
const haveCluster = kubeconfig !== undefined && kubeconfig !== '' && existsSync(kubeconfig.split(':')[0] ?? '');
if (!haveCluster) {
  process.stdout.write('e2e: skipped — set KUBECONFIG to a cluster to run the real-cluster checks (read-only)\n');
}

describe.skipIf(!haveCluster)('e2e against the cluster in KUBECONFIG', () => {
  it('F1 inspect reads a system Deployment as metadata and calls it unstamped (kube-system is never stamped)', async () => {
    const r = await runCliAsync(['inspect', 'deployment/coredns', '-n', 'kube-system']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Deployment kube-system\/coredns: not stamped by rollguard/);
  });

  it('F5 inspect names a missing object clearly', async () => {
    const r = await runCliAsync(['inspect', 'deployment/rollguard-e2e-does-not-exist', '-n', 'default']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('rollguard inspect: Deployment default/rollguard-e2e-does-not-exist not found\n');
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { controlPlane, describeWithControlPlane, type ControlPlane } from '../support/control-plane.js';
import { startKubelet, type Kubelet } from '../support/kubelet.js';
import { generateSeries, step } from '../support/metric-scenarios.js';
import { createTestNamespace, type TestNamespace } from '../support/namespaces.js';
import { toOpenMetrics } from '../support/prometheus.js';
import { runCliAsync } from '../support/run-cli.js';
import { timelineFromAuditLog } from '../../src/replay/extract.js';
import { replicaSetsAt } from '../../src/timeline/audit-replicasets.js';

// Replay on an audit log the real kube-apiserver wrote, not one a test or the examples' generator
// made up: a Deployment created, rolled out by the real deployment controller (Pods marked Ready by
// the test kubelet), then given a new image with the machine's `kubectl set image`. As in a real
// cluster whose log rotated, the copy starts after the Deployment's creation, so what came before
// the deploy is known only from the controller's status writes and the patch itself (the records'
// times are moved so the log reaches far enough back; see below). The metrics
// show a clean 5xx rise a minute after the deploy. Everything the audit policy of the control
// plane logs is there, so with that policy given the clean pod-spec-only regression must reach auto.

const MIN = 60_000;
const STEP = 30_000;
const SHIFT_MS = 40 * MIN;

let cp: ControlPlane;
let ns: TestNamespace;
let kubelet: Kubelet;
let dir: string;
let auditFile: string;
let metricsFile: string;
let deployAt: number;

interface AuditLine {
  stageTimestamp?: string;
  verb?: string;
  objectRef?: { namespace?: string; resource?: string; name?: string; subresource?: string };
}

async function linesOf(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim() !== '');
}

describeWithControlPlane('replay on a real apiserver audit log (issue 9)', () => {
  beforeAll(async () => {
    cp = await controlPlane();
    ns = await createTestNamespace('replay-real', { kubeConfig: cp.kubeConfig });
    kubelet = await startKubelet({ kubeConfig: cp.kubeConfig, namespace: ns.name });
    dir = await mkdtemp(join(tmpdir(), 'rollguard-replay-real-'));
    const n = ['-n', ns.name];
    await cp.kubectl(['create', 'configmap', 'checkout-config', '--from-literal=MODE=fast', ...n]);
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'checkout', labels: { 'app.kubernetes.io/name': 'checkout' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'checkout' } },
        template: {
          metadata: { labels: { app: 'checkout', 'app.kubernetes.io/name': 'checkout' } },
          spec: { containers: [{ name: 'app', image: 'registry.example/checkout:1', envFrom: [{ configMapRef: { name: 'checkout-config' } }] }] },
        },
      },
    };
    await cp.kubectl(['apply', '-f', '-', ...n], { input: stringify(deployment) });
    await cp.kubectl(['rollout', 'status', 'deployment/checkout', '--timeout=90s', ...n], { timeoutMs: 100_000 });
    // Where the copy of the log starts: after the creation and the first rollout.
    const cut = Date.now();
    await new Promise((r) => setTimeout(r, 1100));
    await cp.kubectl(['scale', 'deployment/checkout', '--replicas=3', ...n]);
    await cp.kubectl(['rollout', 'status', 'deployment/checkout', '--timeout=90s', ...n], { timeoutMs: 100_000 });
    await cp.kubectl(['set', 'image', 'deployment/checkout', 'app=registry.example/checkout:2', ...n]);
    await cp.kubectl(['rollout', 'status', 'deployment/checkout', '--timeout=90s', ...n], { timeoutMs: 100_000 });

    // The apiserver's batching backend flushes within a second or so.
    await new Promise((r) => setTimeout(r, 2000));
    // The namespace's ConfigMap records, and everything after the cut moved 40 minutes later: the
    // log then covers the 30 minutes before the deploy that R3 and R4 look at, as a log kept for
    // weeks would, while the Deployment's creation stays out of it.
    const shifted = (await linesOf(cp.auditLog)).flatMap((line) => {
      const e = JSON.parse(line) as AuditLine & { requestReceivedTimestamp?: string };
      if (e.objectRef?.namespace !== ns.name) return [];
      const at = Date.parse(e.stageTimestamp ?? '');
      if (at < cut) return e.objectRef.resource === 'configmaps' ? [e] : [];
      const later = (t: string | undefined) => (t === undefined ? t : new Date(Date.parse(t) + SHIFT_MS).toISOString());
      return [{ ...e, requestReceivedTimestamp: later(e.requestReceivedTimestamp), stageTimestamp: later(e.stageTimestamp) }];
    });
    const patch = shifted.find((e) => e.verb === 'patch' && e.objectRef?.resource === 'deployments' && e.objectRef.subresource === undefined);
    if (patch === undefined) throw new Error(`no kubectl set image patch in the audit log of ${ns.name}`);
    const mine = shifted.map((e) => JSON.stringify(e));
    deployAt = Date.parse(patch.stageTimestamp ?? '');
    auditFile = join(dir, 'audit.log');
    await writeFile(auditFile, `${mine.join('\n')}\n`);

    const series = generateSeries({
      seed: 9,
      namespace: ns.name,
      service: 'checkout',
      stepMs: STEP,
      start: Math.floor((deployAt - 45 * MIN) / STEP) * STEP,
      end: deployAt + 25 * MIN,
      rate: () => 40,
      // Two scrapes after the deploy start: the interval that holds the step is only partly elevated,
      // which the in-step test must not read as a rise (R1 met at every alignment of the scrapes).
      errorShare: step(deployAt + MIN, 0.003, 0.12),
      latencyMedian: () => 0.05,
    });
    metricsFile = join(dir, 'metrics.om');
    await writeFile(metricsFile, toOpenMetrics([series]));
  }, 300_000);

  afterAll(async () => {
    await kubelet.stop();
    await ns.cleanup();
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  const replay = async (extra: string[]) => {
    const r = await runCliAsync(['replay', '--audit', auditFile, '--metrics', metricsFile, '-o', 'json', ...extra]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const rows = lines.filter((l) => l.summary !== true) as { deployment: string; verdict: string; deployStart: string; conditions: Record<string, { status: string; evidence: string }> }[];
    return { rows, summary: lines.find((l) => l.summary === true) ?? {}, stderr: r.stderr };
  };

  it("F1 R3 the deploy's before-state comes from what the log holds (the controller's status writes); without the audit policy, Jobs the log never mentions stay unknown", async () => {
    const { rows } = await replay([]);
    const row = rows.find((r) => r.deployment === 'checkout');
    expect(row, JSON.stringify(rows)).toBeDefined();
    expect(Date.parse(row?.deployStart ?? '')).toBe(deployAt);
    expect(row?.conditions.podSpecOnly?.status, row?.conditions.podSpecOnly?.evidence).toBe('met');
    expect(row?.conditions.podSpecOnly?.evidence).toMatch(/^only the pod template changed \(images\);.*before-state: the full object logged at \S+ \(deployments\/status update\)$/);
    // Without the audit policy, a log that never mentions Jobs may be one that leaves them out (F1).
    expect(row?.conditions.migration?.status).toBe('unknown');
    expect(row?.conditions.migration?.evidence).toMatch(/--audit-policy/);
    expect(row?.verdict).toBe('suggest');
  }, 120_000);

  it('F1 R4 with the cluster audit policy, a resource it logs and the log does not mention had no write: the clean pod-spec-only regression is auto', async () => {
    const { rows } = await replay(['--audit-policy', join(cp.workDir, 'audit-policy.yaml')]);
    const row = rows.find((r) => r.deployment === 'checkout');
    expect(row?.conditions.podSpecOnly?.status, row?.conditions.podSpecOnly?.evidence).toBe('met');
    expect(row?.conditions.podSpecOnly?.evidence).toMatch(/images/);
    expect(row?.conditions.migration?.status, row?.conditions.migration?.evidence).toBe('met');
    expect(row?.conditions.migration?.evidence).toMatch(/audit policy/);
    expect(row?.conditions.cleanSignal?.status, row?.conditions.cleanSignal?.evidence).toBe('met');
    expect(row?.verdict, JSON.stringify(row?.conditions)).toBe('auto');
  }, 120_000);

  it("R1 R2 the deployment controller's ReplicaSet writes give each ReplicaSet's Deployment and revision, as of the deploy and after it", async () => {
    const { replicaSets } = await timelineFromAuditLog([auditFile]);
    const before = replicaSetsAt(replicaSets, ns.name, 'checkout', deployAt - 1);
    const after = replicaSetsAt(replicaSets, ns.name, 'checkout', deployAt + 5 * MIN);
    expect(before.map((r) => r.revision)).toEqual([1]);
    expect(after.map((r) => r.revision).sort()).toEqual([1, 2]);
    expect(after.every((r) => r.name.startsWith('checkout-'))).toBe(true);
  });
});

import { Writable } from 'node:stream';
import { pino } from 'pino';
import { resolver } from '../src/policy/policy-file.js';
import { ANNOTATIONS } from '../src/core/annotations.js';
import { parseInstant } from '../src/core/duration.js';
import type { Deployment, ReplicaSet } from '../src/core/kube.js';
import { stampedDeploy } from '../src/core/stamped-deploy.js';
import { paths } from '../src/kube/rest.js';
import { firstDetectionFromSource } from '../src/metrics/detect.js';
import { PrometheusSource } from '../src/metrics/prometheus.js';
import { deploymentManifest, POLICY, policySet, rolledOut, setImage, startAgent } from '../test/support/agent-helpers.js';
import type { ControlPlane } from '../test/support/control-plane-admin.js';
import { startStack } from '../test/support/rollguard-stack.js';
import { waitFor } from '../test/support/wait.js';

// Onset → rollback on the real control plane: the stack of the agent tests (webhook, kubelet
// stand-in, exporter, scraping Prometheus, agent with the 1 s test policy). Per run, one clean
// deploy, then the exporter's 5xx share raised at a chosen phase of the 1 s step grid; the
// rollback is the moment the agent's patch returned (its 'rolled back' log line). Afterwards the
// detector alone is replayed on the same Prometheus data: the first step at which it fires.

export interface LatencyRun {
  name: string;
  onset: number;
  /** rollguard.io/rolled-back-at: the agent's clock right before it sent the patch. */
  decidedAt: number;
  /** The agent's 'rolled back' log line: the patch had returned. */
  patchedAt: number;
  /** The detector alone, on the same data: the first grid step where it fires, and the onset it reports. */
  detectableAt: number | undefined;
  detectedOnset: number | undefined;
}

/** Resolves per Deployment when the agent logs that it rolled it back. */
class RollbackLog {
  private readonly seen = new Map<string, number>();
  private readonly waiters = new Map<string, (at: number) => void>();
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.includes('"rolled back"')) continue;
        const entry = JSON.parse(line) as { time: number; namespace: string; deployment: string };
        const key = `${entry.namespace}/${entry.deployment}`;
        this.seen.set(key, entry.time);
        this.waiters.get(key)?.(entry.time);
      }
      done();
    },
  });

  next(key: string, timeoutMs: number): Promise<number> {
    const at = this.seen.get(key);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no rollback of ${key} within ${String(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiters.set(key, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
    });
  }
}

const STEP_MS = 1000;

/** The phase in the step at which the exporter was scraped, ms: a circular mean, as 990 ms and 10 ms are 20 ms apart. */
function scrapePhase(scrapes: readonly { at: number }[]): number {
  const angles = scrapes.map((s) => ((s.at % STEP_MS) / STEP_MS) * 2 * Math.PI);
  const mean = Math.atan2(angles.reduce((a, x) => a + Math.sin(x), 0), angles.reduce((a, x) => a + Math.cos(x), 0));
  return (((mean / (2 * Math.PI)) * STEP_MS) + STEP_MS) % STEP_MS;
}

export async function measureLatency(cp: ControlPlane, runs: number, log: (line: string) => void, label = 'stack'): Promise<LatencyRun[]> {
  const names = Array.from({ length: runs }, (_, i) => `svc-${String(i)}`);
  const stack = await startStack({ prefix: 'bench-agent', services: names.map((service) => ({ service })), policy: POLICY, controlPlane: cp });
  const rollbacks = new RollbackLog();
  const agent = startAgent(stack, 'bench', POLICY, { logger: pino({ level: 'info' }, rollbacks.stream) });
  const policy = resolver(policySet(POLICY))(stack.ns);
  const source = new PrometheusSource({ url: stack.prometheus.url, metrics: policy.metrics });
  const out: LatencyRun[] = [];
  try {
    await agent.start();
    await waitFor('the agent to lead', () => agent.lease.isLeader(), { timeoutMs: 20_000 });
    for (const [i, name] of names.entries()) {
      const { ns, admin } = stack;
      await admin.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deploymentManifest(name, `shop/${name}:1`));
      await rolledOut(stack, ns, name, `shop/${name}:1`);
      await setImage(stack, ns, name, `shop/${name}:2`);
      const deployed = await rolledOut(stack, ns, name, `shop/${name}:2`);
      const replicaSets = await admin.get<{ items: ReplicaSet[] }>(paths.replicaSets(ns));
      const deployStart = stampedDeploy(deployed, replicaSets.items, Date.now()).evaluationStart;
      if (deployStart === undefined) throw new Error(`${name}: no deploy start stamped`);
      // Onsets spread evenly over the phase of the step grid, at least 2 s after the rollout.
      const phase = ((i + 0.5) / runs) * STEP_MS;
      const earliest = Date.now() + 2000;
      const onset = earliest - (earliest % STEP_MS) + phase + (earliest % STEP_MS > phase ? STEP_MS : 0);
      await new Promise((r) => setTimeout(r, onset - Date.now()));
      const raisedAt = Date.now();
      stack.exporter.set(ns, name, { errorShare: 0.2 });
      const patchedAt = await rollbacks.next(`${ns}/${name}`, 60_000);
      stack.exporter.set(ns, name, { errorShare: 0.002 });
      const after = await admin.get<Deployment>(paths.deployment(ns, name));
      const decidedAt = parseInstant(after.metadata?.annotations?.[ANNOTATIONS.rolledBackAt.key]) ?? Number.NaN;
      const found = await firstDetectionFromSource(source, { namespace: ns, service: name, deployStart, policy, until: patchedAt + 3 * STEP_MS });
      const run: LatencyRun = { name, onset: raisedAt, decidedAt, patchedAt, detectableAt: found.at, detectedOnset: found.regression.onset };
      out.push(run);
      log(`  ${label} run ${String(i + 1)}/${String(runs)} ${name}: onset phase ${((raisedAt % STEP_MS) / 1000).toFixed(2)} s, detectable +${fmtS(run.detectableAt, run.onset)} (onset found at +${fmtS(run.detectedOnset, run.onset)}), patch sent +${fmtS(run.decidedAt, run.onset)} (the agent's share: +${fmtS(run.decidedAt, run.detectableAt ?? Number.NaN)} after detectable), returned +${fmtS(run.patchedAt, run.onset)}`);
    }
    log(`  ${label}: Prometheus scraped the exporter at +${(scrapePhase(stack.exporter.scrapes) / 1000).toFixed(2)} s into each step (the mean phase of its last ${String(stack.exporter.scrapes.length)} scrapes)`);
    return out;
  } finally {
    await agent.stop();
    await stack.stop();
  }
}

function fmtS(at: number | undefined, from: number): string {
  return at === undefined || Number.isNaN(at) ? 'n/a' : `${((at - from) / 1000).toFixed(2)} s`;
}

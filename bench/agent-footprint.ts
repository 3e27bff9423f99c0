import { keptDeployment, keptReplicaSet } from '../src/agent/kept-objects.js';
import type { Deployment, ReplicaSet } from '../src/core/kube.js';
import { metadataForStamps, type StampMetadata } from '../src/stamps/stamp-cache.js';
import type { ControlPlaneFacts } from '../test/support/control-plane-context.js';
import { addConfig, addDeployments, BulkWriter, ensureNamespaces, LAST_APPLIED, META_LIST, NAMESPACES } from './agent-objects.js';
import { podMountPossible, procSample, startAgentProcess, startPrometheusStub, type AgentConnection, type ProcSample } from './agent-process.js';
import { median } from './stats.js';

// The agent's memory and CPU while it watches a growing cluster: objects are added tier by tier
// (first Deployments alone, then ConfigMaps/Secrets alone, then both), and at each tier a fresh
// agent process lists everything, and is sampled through a few evaluation intervals.

export interface Tier {
  deployments: number;
  config: number;
}

export interface TierResult extends Tier {
  present: Record<string, number>;
  populateS: number;
  syncS: number;
  syncCpuS: number;
  rssAfterSync: number;
  /** After a forced full GC right after sync, before the first evaluation pass: what the caches retain. */
  syncedHeapMb: number;
  syncedRssGc: number;
  rssMedian: number;
  rssMax: number;
  hwm: number;
  /** VmHWM when /readyz first said synced: the peak of the initial lists. */
  hwmAtSync: number;
  /** After a forced full GC at the end of the window (evaluations may be in flight). */
  liveHeapMb: number;
  rssAfterGc: number;
  cpuPercent: number;
  evaluationsPerS: number;
  leader: boolean;
}

const INTERVAL_S = 5;
const WINDOW_S = 4 * INTERVAL_S;
const SETTLE_MS = 10_000;

async function count(w: BulkWriter, path: string): Promise<number> {
  const list = await w.send<{ items: unknown[]; metadata: { remainingItemCount?: number } }>('GET', `${path}?limit=1`);
  return list.items.length + (list.metadata.remainingItemCount ?? 0);
}

async function present(w: BulkWriter): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [kind, path] of [['Deployments', '/apis/apps/v1/deployments'], ['ReplicaSets', '/apis/apps/v1/replicasets'], ['ConfigMaps', '/api/v1/configmaps'], ['Secrets', '/api/v1/secrets']] as const) out[kind] = await count(w, path);
  return out;
}

/** As in a Pod (the service-account mount) where this machine allows it, else the admin kubeconfig. */
export function footprintConnection(facts: ControlPlaneFacts): { connection: AgentConnection; label: string } {
  if (podMountPossible()) return { connection: { pod: { server: facts.apiserverUrl, caFile: facts.caFile, token: facts.adminToken } }, label: "a Pod's service-account mount (private mount namespace)" };
  return { connection: { kubeconfig: facts.kubeconfig }, label: 'the admin kubeconfig (this machine cannot give the process a service-account mount: client-node is loaded, as it is not in a Pod)' };
}

async function measure(facts: ControlPlaneFacts, main: string, prometheus: string, leaseNs: string, nodeOptions: string, connection: AgentConnection = footprintConnection(facts).connection): Promise<Omit<TierResult, keyof Tier | 'present' | 'populateS'>> {
  const agent = await startAgentProcess(main, { connection, prometheus, namespace: leaseNs, id: leaseNs, interval: `${String(INTERVAL_S)}s`, nodeOptions });
  try {
    const pid = agent.process.pid;
    const synced = procSample(pid);
    // The first pass starts one interval after the informers have listed: nothing runs yet.
    await agent.collectGarbage();
    await new Promise((r) => setTimeout(r, 1000));
    const syncedHeapMb = await agent.collectGarbage();
    const syncedRssGc = procSample(pid).rssMb;
    const evals0 = await agent.metric('rollguard_agent_evaluations_total');
    const samples: ProcSample[] = [];
    const t0 = performance.now();
    while (performance.now() - t0 < WINDOW_S * 1000) {
      samples.push(procSample(pid));
      await new Promise((r) => setTimeout(r, 250));
    }
    const last = procSample(pid);
    const elapsedS = (performance.now() - t0) / 1000;
    const evals1 = await agent.metric('rollguard_agent_evaluations_total');
    const leader = (await agent.metric('rollguard_agent_leader')) === 1;
    const liveHeapMb = await agent.collectGarbage();
    await new Promise((r) => setTimeout(r, 1000));
    const rss = samples.map((s) => s.rssMb);
    return {
      syncS: agent.syncMs / 1000,
      syncCpuS: synced.cpuSeconds,
      rssAfterSync: synced.rssMb,
      syncedHeapMb,
      syncedRssGc,
      rssMedian: median(rss),
      rssMax: Math.max(...rss),
      hwm: last.hwmMb,
      hwmAtSync: synced.hwmMb,
      liveHeapMb,
      rssAfterGc: procSample(pid).rssMb,
      cpuPercent: ((last.cpuSeconds - synced.cpuSeconds) / elapsedS) * 100,
      evaluationsPerS: (evals1 - evals0) / elapsedS,
      leader,
    };
  } finally {
    await agent.process.stop();
  }
}

type Listed = { items: { metadata: { managedFields?: unknown; annotations?: Record<string, string> } }[] };

/** Mean JSON lengths as the informers list them, and of what they keep (keptDeployment, keptReplicaSet of the metadata, metadataForStamps), before the sharing between neighbours. */
export async function storedSizes(w: BulkWriter): Promise<{ kind: string; bytes: number; kept: number; managedFields: number; lastApplied: number }[]> {
  const out = [];
  const keepers: readonly [string, string, boolean, (o: Listed['items'][number]) => unknown][] = [
    ['Deployment', '/apis/apps/v1/deployments', false, (o) => keptDeployment(o as Deployment)],
    ['ReplicaSet', '/apis/apps/v1/replicasets', true, (o) => keptReplicaSet(o as ReplicaSet)],
    ['ConfigMap', '/api/v1/configmaps', true, (o) => ({ metadata: metadataForStamps(o.metadata as StampMetadata) })],
    ['Secret', '/api/v1/secrets', true, (o) => ({ metadata: metadataForStamps(o.metadata as StampMetadata) })],
  ];
  for (const [kind, path, metadataOnly, keep] of keepers) {
    const list = await w.send<Listed>('GET', path, undefined, undefined, metadataOnly ? META_LIST : undefined);
    let bytes = 0;
    let kept = 0;
    let managedFields = 0;
    let lastApplied = 0;
    for (const o of list.items) {
      managedFields += JSON.stringify(o.metadata.managedFields ?? []).length;
      lastApplied += o.metadata.annotations?.[LAST_APPLIED]?.length ?? 0;
      bytes += JSON.stringify(o).length;
      kept += JSON.stringify(keep(o)).length;
    }
    const n = Math.max(1, list.items.length);
    out.push({ kind, bytes: bytes / n, kept: kept / n, managedFields: managedFields / n, lastApplied: lastApplied / n });
  }
  return out;
}

/**
 * `nodeOptions`: the chart's NODE_OPTIONS for the agent container, used at every tier; the idle tier
 * is also measured without them (the baseline). `revisions`: the ReplicaSets each Deployment has.
 */
export async function measureFootprint(facts: ControlPlaneFacts, main: string, tiers: readonly Tier[], nodeOptions: string, log: (line: string) => void, revisions = 2): Promise<TierResult[]> {
  const writer = new BulkWriter(facts);
  const stub = await startPrometheusStub();
  const results: TierResult[] = [];
  try {
    let have: Tier = { deployments: 0, config: 0 };
    for (const [i, tier] of tiers.entries()) {
      const t0 = performance.now();
      const leaseNs = `rollguard-bench-${String(i)}`;
      // The first tier is the empty cluster: only then no application namespaces yet.
      await ensureNamespaces(writer, i === 0 ? [leaseNs] : [leaseNs, ...NAMESPACES]);
      if (tier.deployments > have.deployments) await addDeployments(writer, `d${String(i)}`, tier.deployments - have.deployments, revisions);
      if (tier.config > have.config) await addConfig(writer, `c${String(i)}`, tier.config - have.config, 1000 + i);
      const populateS = (performance.now() - t0) / 1000;
      // The controllers' status updates that follow a bulk deploy would reach the agent's watches as a burst.
      if (i > 0) await new Promise((r) => setTimeout(r, SETTLE_MS));
      have = { ...tier };
      const counts = await present(writer);
      log(`  tier ${String(i)}: ${Object.entries(counts).map(([k, n]) => `${String(n)} ${k}`).join(', ')} (populated in ${populateS.toFixed(0)} s); starting the agent`);
      results.push({ ...tier, present: counts, populateS, ...(await measure(facts, main, stub.url, leaseNs, nodeOptions)) });
      if (i === 0 && nodeOptions !== '') {
        await ensureNamespaces(writer, ['rollguard-bench-default-v8']);
        const plain = await measure(facts, main, stub.url, 'rollguard-bench-default-v8', '');
        const tuned = results[0];
        if (tuned !== undefined) log(`  idle, the same agent without NODE_OPTIONS (V8's defaults): RSS ${plain.rssMedian.toFixed(1)} MB as it runs (with "${nodeOptions}": ${tuned.rssMedian.toFixed(1)} MB), ${plain.syncedRssGc.toFixed(1)} MB after a forced GC (with: ${tuned.syncedRssGc.toFixed(1)} MB)`);
      }
      if (i === 0 && !('kubeconfig' in footprintConnection(facts).connection)) {
        // The same idle agent through a kubeconfig, which loads client-node: the baseline in this run.
        await ensureNamespaces(writer, ['rollguard-bench-kubeconfig']);
        const kc = await measure(facts, main, stub.url, 'rollguard-bench-kubeconfig', nodeOptions, { kubeconfig: facts.kubeconfig });
        const pod = results[0];
        if (pod !== undefined) log(`  idle, the same agent through a kubeconfig (client-node loaded): RSS ${kc.rssMedian.toFixed(1)} MB as it runs (Pod: ${pod.rssMedian.toFixed(1)} MB, ${(pod.rssMedian / kc.rssMedian).toFixed(2)}x), ${kc.syncedRssGc.toFixed(1)} MB after a forced GC (Pod: ${pod.syncedRssGc.toFixed(1)} MB)`);
      }
    }
    for (const s of await storedSizes(writer)) {
      log(`  per ${s.kind}: ${s.bytes.toFixed(0)} B of JSON as listed${s.kind.startsWith('Deploy') ? '' : ' (metadata only)'}, of which managedFields ${s.managedFields.toFixed(0)} B and last-applied-configuration ${s.lastApplied.toFixed(0)} B; the informer keeps ${s.kept.toFixed(0)} B of it as JSON, before the sharing between neighbours (the V8 heap per object is in the table below)`);
    }
    return results;
  } finally {
    await stub.stop();
    await writer.close();
  }
}

export const FOOTPRINT_WINDOW = { intervalS: INTERVAL_S, windowS: WINDOW_S };

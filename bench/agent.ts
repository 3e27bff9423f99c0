// `npm run bench:agent`: the agent on the real control plane of ../shared/k8s.
//  1. Onset → rollback: time from the exporter's 5xx share being raised to the agent's rollback
//     patch, in seconds and in metric steps, over repeated runs. Baseline, same run: the detector
//     alone replayed on the same Prometheus data (the first step at which it could fire), so the
//     ratio is what the agent adds on top of what detection needs; the theoretical minimum
//     (persistence steps) is printed beside it. Goal: persistence + 2 steps. Prometheus scrapes a
//     target at an offset in the interval of its own (a hash of the target, so new with each
//     stack's exporter port), and where the scrapes fall in the step decides for which onset
//     phases the onset's own step counts: the runs are spread over several stacks, each with its
//     own Prometheus, so the quantiles cover that offset too.
//  2. Footprint: RSS and CPU of a `rollguard agent` process watching a cluster grown tier by tier
//     (Deployments with two ReplicaSets each (--revisions N: N), ConfigMaps/Secrets of a few KB), per-object slopes,
//     and the projection to 10,000 Deployments + 50,000 ConfigMaps/Secrets. Baseline, same run:
//     the same agent on the empty cluster. Targets (issue table): idle ≤ 60 MB, after sync ≤ 150 MB,
//     through an evaluation window ≤ 200 MB, VmHWM during the initial sync ≤ 250 MB.
//
//   npm run bench:agent   (add -- --runs N (default 12) over --stacks S (default 3), --scale F to scale the tiers, --only latency|footprint;
//   --scale 2.5 makes the largest tier the cluster, 10,000 + 50,000, measured instead of projected;
//   --revisions N gives each Deployment N ReplicaSets instead of 2, up to the 11 a cluster keeps by default)

import { cpus } from 'node:os';
import { scrapeLandingMs } from '../src/agent/evaluation-schedule.js';
import { KubeRest } from '../src/kube/rest.js';
import { adminControlPlane } from '../test/support/control-plane-admin.js';
import { ENABLE_HINT, launchControlPlane, locateControlPlane, type LaunchedControlPlane, type Located } from '../test/support/control-plane-launch.js';
import { installRollguardCrds } from '../test/support/rollguard-crds.js';
import { waitFor } from '../test/support/wait.js';
import { FOOTPRINT_WINDOW, footprintConnection, measureFootprint, type Tier, type TierResult } from './agent-footprint.js';
import { measureLatency, type LatencyRun } from './agent-latency.js';
import { chartContainer } from './chart-node-options.js';
import { buildBundle } from './image-bundle.js';
import { AGENT_FIGURES, fitSlopes, summarizeLatency } from './agent-report.js';

const STEP_S = 1;
const PERSISTENCE = 3;
const GOAL_STEPS = PERSISTENCE + 2;
const TARGET = { deployments: 10_000, config: 50_000 };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const runs = Math.max(1, Number(arg('runs') ?? 12));
const stacks = Math.min(runs, Math.max(1, Number(arg('stacks') ?? 3)));
const scale = Number(arg('scale') ?? 1);
const only = arg('only');
/** ReplicaSets per Deployment: 2 (a deploy and the one before), up to 11 (revisionHistoryLimit's default 10 old ones). */
const revisions = Math.min(11, Math.max(2, Math.round(Number(arg('revisions') ?? 2))));
const tiers: Tier[] = [
  { deployments: 0, config: 0 },
  { deployments: 1000, config: 0 },
  { deployments: 1000, config: 5000 },
  { deployments: 2000, config: 10_000 },
  { deployments: 4000, config: 20_000 },
].map((t) => ({ deployments: Math.round(t.deployments * scale), config: Math.round(t.config * scale) }));

const say = (line: string) => process.stdout.write(`${line}\n`);
const steps = (s: number) => `${s.toFixed(2)} s (${(s / STEP_S).toFixed(1)} steps)`;
const mb = (x: number) => `${x.toFixed(1)} MB`;

function printLatency(results: readonly LatencyRun[]): boolean {
  const s = summarizeLatency(results);
  say(`\n${'onset → ...'.padEnd(42)} ${'median'.padEnd(22)} p90`);
  for (const r of s.rows) say(`  ${r.label.padEnd(40)} ${steps(r.median).padEnd(22)} ${steps(r.p90)}`);
  say(`ratio onset→rollback / detection alone (medians): ${(s.rollbackMedian / s.detectMedian).toFixed(2)}x; the agent adds ${(s.rollbackMedian - s.detectMedian).toFixed(2)} s`);
  // A pass starts once the step's scrapes have landed (evaluation-schedule.ts): a tenth of the step, at most 1 s.
  const landingS = scrapeLandingMs(STEP_S * 1000) / 1000;
  const defaultStepS = 30;
  say(`  of which the wait for the step's scrapes to land: ${landingS.toFixed(2)} s (a tenth of the step, at most 1 s: ${(landingS / STEP_S).toFixed(2)} steps here, ${(scrapeLandingMs(defaultStepS * 1000) / 1000 / defaultStepS).toFixed(3)} at the default ${String(defaultStepS)} s step)`);
  say(`theoretical minimum: persistence = ${String(PERSISTENCE)} steps (${String(PERSISTENCE * STEP_S)} s); ratio to it: ${(s.rollbackMedian / (PERSISTENCE * STEP_S)).toFixed(2)}x`);
  const ok = (x: number) => (x / STEP_S <= GOAL_STEPS ? 'met' : 'NOT met');
  say(`goal onset→rollback ≤ persistence + 2 = ${String(GOAL_STEPS)} steps: median ${ok(s.rollbackMedian)}, p90 ${ok(s.rollbackP90)}`);
  return s.rollbackMedian / STEP_S <= GOAL_STEPS;
}

function printFootprint(results: readonly TierResult[]): boolean {
  const idle = results[0];
  const last = results[results.length - 1];
  if (idle === undefined || last === undefined) return false;
  say(`\n${['Deployments', 'ConfigMaps+Secrets', 'sync', 'CPU to sync', 'RSS synced', 'HWM synced', 'synced+GC: heap', 'RSS', 'window: RSS median', 'max', 'HWM', 'end+GC: heap', 'RSS', 'CPU', 'evals/s', 'CPU/eval'].join(' | ')}`);
  for (const t of results) {
    const row = [t.deployments, t.config, `${t.syncS.toFixed(1)} s`, `${t.syncCpuS.toFixed(1)} s`, mb(t.rssAfterSync), mb(t.hwmAtSync), mb(t.syncedHeapMb), mb(t.syncedRssGc), mb(t.rssMedian), mb(t.rssMax), mb(t.hwm), mb(t.liveHeapMb), mb(t.rssAfterGc), `${t.cpuPercent.toFixed(0)}%`, t.evaluationsPerS.toFixed(0), t.evaluationsPerS > 0 ? `${((t.cpuPercent * 10) / t.evaluationsPerS).toFixed(1)} ms` : '-'];
    say(row.map(String).join(' | ') + (t.leader ? '' : '  (not leader: no evaluations)'));
  }
  say('(RSS synced, HWM synced: read when /readyz first says synced; synced+GC: a forced full GC right after, before the first pass; window: the evaluation intervals that follow; end+GC: a forced full GC at its end; CPU: share of one core in the window. The window holds the first pass, which also writes the rollout-completed stamp on every Deployment: one PATCH each)');
  // With --scale 2.5 the largest tier is the cluster itself: its figures are measured, not projected.
  const atTarget = last.deployments >= TARGET.deployments && last.config >= TARGET.config;
  say(`measured directly up to ${String(last.deployments)} Deployments (${String(last.present.ReplicaSets ?? revisions * last.deployments)} ReplicaSets) + ${String(last.config)} ConfigMaps/Secrets, the largest tier of this run (--scale ${String(scale)}); ${atTarget ? 'the figures below are that tier\'s, measured; the projection from' : 'projected from'} the ${String(results.length - 1)} non-empty tiers with the empty cluster as the intercept${atTarget ? ' is printed beside them' : ''}`);
  say(`\nthe issue's figures, at ${TARGET.deployments.toLocaleString('en-US')} Deployments (${(revisions * TARGET.deployments).toLocaleString('en-US')} ReplicaSets) + ${TARGET.config.toLocaleString('en-US')} ConfigMaps/Secrets:`);
  let ok = true;
  for (const f of AGENT_FIGURES) {
    const besideAt = (b: NonNullable<typeof f.beside>): number => (!f.projected ? b.pick(idle) : atTarget ? b.pick(last) : fitSlopes(results, b.pick).predict(TARGET.deployments, TARGET.config));
    const beside = f.beside === undefined ? '' : `; ${f.beside.label}: ${mb(besideAt(f.beside))}`;
    let value = f.pick(idle);
    let how = '';
    if (f.projected) {
      const fit = fitSlopes(results, f.pick);
      const projected = fit.predict(TARGET.deployments, TARGET.config);
      value = atTarget ? f.pick(last) : projected;
      how = atTarget ? ` measured at ${String(last.deployments)}/${String(last.config)} (${(value / f.pick(idle)).toFixed(2)}x idle; projected ${mb(projected)})` : ` projected (${(value / f.pick(idle)).toFixed(2)}x idle)`;
      say(`  ${f.label}: idle ${mb(f.pick(idle))}, ${(fit.perDeployment * 1024).toFixed(1)} KB per Deployment (with its ${String(revisions)} ReplicaSets), ${(fit.perConfig * 1024).toFixed(2)} KB per ConfigMap/Secret; fit at ${String(last.deployments)}/${String(last.config)} ${mb(fit.predict(last.deployments, last.config))}, measured ${mb(f.pick(last))}`);
    } else {
      say(`  ${f.label}: measured`);
    }
    const verdict = f.target === undefined ? '' : `; target ≤ ${String(f.target)} MB: ${value <= f.target ? 'met' : 'NOT met'}`;
    if (f.target !== undefined && value > f.target) ok = false;
    say(`    → ${mb(value)}${how}${beside}${verdict}`);
  }
  return ok;
}

/** The script picks free ports, which another process on a busy machine can take before they are bound. */
async function launchWithRetry(located: Extract<Located, { ok: true }>): Promise<LaunchedControlPlane> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchControlPlane(located);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(String(err))) throw err;
      say(`control plane: a port was taken during start-up (attempt ${String(attempt)}); starting again`);
    }
  }
}

async function main(): Promise<void> {
  const located = locateControlPlane();
  if (!located.ok) {
    say(`skipped: no Kubernetes control plane (${located.reason}); to run it, ${ENABLE_HINT}`);
    return;
  }
  const built = only === 'latency' ? undefined : await buildBundle('bench-agent-bundle');
  // The controller manager's default client rate (20 requests/s) would take ~10 min to deploy
  // 2,000 Deployments twice; a local apiserver takes far more.
  process.env.EXTRA_KCM_ARGS ??= '--kube-api-qps=400 --kube-api-burst=800 --concurrent-deployment-syncs=10 --concurrent-replicaset-syncs=10';
  const launched = await launchWithRetry(located);
  let ok = true;
  try {
    const cp = adminControlPlane(launched.facts);
    // As the chart installs them: the agent is not ready until it watches its RollbackDecisions.
    await installRollguardCrds(new KubeRest(cp.kubeConfig));
    say(`control plane up in ${(launched.facts.startMs / 1000).toFixed(1)} s at ${launched.facts.apiserverUrl} (controller manager: ${process.env.EXTRA_KCM_ARGS}); node ${process.version}, ${String(cpus().length)} CPUs shared by the control plane, rollguard and the benchmark`);
    if (only !== 'footprint') {
      say(`\nonset → rollback: ${String(runs)} runs over ${String(stacks)} stacks (each its own exporter and Prometheus, so its own scrape offset); policy step ${String(STEP_S)} s, persistence ${String(PERSISTENCE)}, agent interval 1 s; 5xx share 0.2% → 20% at 100 req/s, onsets spread over the step phase in each stack`);
      const results: LatencyRun[] = [];
      for (let s = 0; s < stacks; s++) {
        const n = Math.floor(runs / stacks) + (s < runs % stacks ? 1 : 0);
        results.push(...(await measureLatency(cp, n, say, `stack ${String(s + 1)}/${String(stacks)}`)));
      }
      ok = printLatency(results) && ok;
      // The stack's namespaces go before the footprint's empty-cluster baseline.
      await waitFor('the latency namespaces to be deleted', async () => {
        const list = await cp.kubectl(['get', 'namespaces', '-o', 'name']);
        return !list.stdout.includes('namespace/bench-agent-');
      }, { timeoutMs: 120_000, intervalMs: 1000 });
    }
    if (built !== undefined) {
      say(`\nfootprint: \`rollguard agent\` from the image's bundle (scripts/bundle.ts, as the Pod runs it), connected through ${footprintConnection(launched.facts).label}, a Prometheus stand-in answering no data; --interval ${String(FOOTPRINT_WINDOW.intervalS)}s, sampled every 250 ms for ${String(FOOTPRINT_WINDOW.windowS)} s after /readyz; every Deployment is in its evaluation span`);
      say('objects: Deployments ~2.5 KB (half with last-applied-configuration), replicas 0, deployed twice; ConfigMaps (60%, 1-6 KB) and Secrets (40%, 0.1-2.8 KB), a third with last-applied-configuration; 40 namespaces');
      const chart = await chartContainer('agent');
      say(`as the chart runs it: NODE_OPTIONS="${chart.nodeOptions}" (memory limit ${chart.memoryLimit ?? 'none'})`);
      ok = printFootprint(await measureFootprint(launched.facts, built.main, tiers, chart.nodeOptions, say, revisions)) && ok;
    }
  } finally {
    await built?.remove();
    await launched.stop();
  }
  process.exitCode = ok ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // exit (not the default kill) runs the exit hooks that stop the child processes
  process.once(signal, () => process.exit(130));
}
await main();

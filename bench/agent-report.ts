import type { TierResult } from './agent-footprint.js';
import type { LatencyRun } from './agent-latency.js';
import { quantile } from './stats.js';

// The figures of bench/agent.ts: quantiles of onset → rollback, and the per-object memory slopes
// fitted over the tiers with the empty cluster as the intercept.

export interface LatencySummary {
  rows: { label: string; median: number; p90: number }[];
  rollbackMedian: number;
  rollbackP90: number;
  detectMedian: number;
}

/** Seconds after the onset, per run; steps = seconds / step. */
export function summarizeLatency(runs: readonly LatencyRun[]): LatencySummary {
  const after = (pick: (r: LatencyRun) => number | undefined) => runs.map((r) => ((pick(r) ?? Number.NaN) - r.onset) / 1000).filter((x) => !Number.isNaN(x));
  const series: [string, number[]][] = [
    ['detectable (detector alone, same data)', after((r) => r.detectableAt)],
    ['patch sent (rolled-back-at)', after((r) => r.decidedAt)],
    ['patch returned (agent log)', after((r) => r.patchedAt)],
  ];
  const rows = series.map(([label, xs]) => ({ label, median: quantile(xs, 0.5), p90: quantile(xs, 0.9) }));
  return { rows, rollbackMedian: rows[2]?.median ?? Number.NaN, rollbackP90: rows[2]?.p90 ?? Number.NaN, detectMedian: rows[0]?.median ?? Number.NaN };
}

export interface Fit {
  /** MB per Deployment (with its ReplicaSets) and per ConfigMap/Secret. */
  perDeployment: number;
  perConfig: number;
  predict: (deployments: number, config: number) => number;
}

/** Least squares of y − idle = b·deployments + c·config over the non-empty tiers. */
export function fitSlopes(tiers: readonly TierResult[], y: (t: TierResult) => number): Fit {
  const idle = tiers[0];
  if (idle === undefined || idle.deployments !== 0 || idle.config !== 0) throw new Error('the first tier must be the empty cluster');
  let sdd = 0;
  let scc = 0;
  let sdc = 0;
  let sdy = 0;
  let scy = 0;
  for (const t of tiers.slice(1)) {
    const dy = y(t) - y(idle);
    sdd += t.deployments * t.deployments;
    scc += t.config * t.config;
    sdc += t.deployments * t.config;
    sdy += t.deployments * dy;
    scy += t.config * dy;
  }
  const det = sdd * scc - sdc * sdc;
  if (det === 0) throw new Error('the tiers do not vary Deployments and ConfigMaps/Secrets independently');
  const perDeployment = (sdy * scc - scy * sdc) / det;
  const perConfig = (scy * sdd - sdy * sdc) / det;
  return { perDeployment, perConfig, predict: (d, c) => y(idle) + perDeployment * d + perConfig * c };
}

/** One figure of the table, as bench:agent measures it per tier; `target` in MB. */
export interface AgentFigure {
  label: string;
  target: number | undefined;
  /** Projected to the target cluster (false: read at the empty cluster, as the issue states it). */
  projected: boolean;
  pick: (t: TierResult) => number;
  /** Printed beside it, e.g. the same figure after a forced GC. */
  beside?: { label: string; pick: (t: TierResult) => number };
}

export const AGENT_FIGURES: readonly AgentFigure[] = [
  { label: 'agent RSS idle (empty cluster, after /readyz), as it runs', target: 60, projected: false, pick: (t) => t.rssMedian, beside: { label: 'after a forced GC', pick: (t) => t.syncedRssGc } },
  { label: 'agent RSS after sync, as it runs (at /readyz)', target: 150, projected: true, pick: (t) => t.rssAfterSync, beside: { label: 'after a forced GC', pick: (t) => t.syncedRssGc } },
  { label: 'agent RSS through an evaluation window (max, as it runs)', target: 200, projected: true, pick: (t) => t.rssMax, beside: { label: 'after the window and a forced GC', pick: (t) => t.rssAfterGc } },
  { label: 'agent peak RSS (VmHWM) during the initial sync', target: 250, projected: true, pick: (t) => t.hwmAtSync, beside: { label: 'VmHWM at the end of the window', pick: (t) => t.hwm } },
  { label: 'V8 heap after sync + a forced GC (what the caches hold)', target: undefined, projected: true, pick: (t) => t.syncedHeapMb },
];

import type { Decision } from '../core/decision-types.js';

// What a per-deploy HTML report is drawn from: the decision, plus the metric series and the
// moments to mark on them, as plain arrays (times are epoch ms, UTC).

export interface SeriesPoint {
  t: number;
  v: number;
}

export type MarkKind = 'deploy-start' | 'deploy-complete' | 'onset' | 'decision' | 'config' | 'job' | 'rollback' | 'rollback-complete' | 'other';

export interface ReportMark {
  at: number;
  kind: MarkKind;
  label: string;
  /** Happened after the decision was made: shown, but greyed and marked "later" (no hindsight). */
  later?: boolean;
}

export interface ReportSeries {
  points: readonly SeriesPoint[];
  /** The policy threshold drawn as a line; for latency, a p99 in seconds. */
  threshold?: number;
  /** The pre-deploy baseline, drawn dotted. */
  baseline?: number;
}

export interface ReportInput {
  decision: Decision;
  /** The service whose series are drawn: the regressing one, which R2 may find is not the deployed one. */
  service: string;
  /** When rollguard made (or would have made) the decision. */
  decidedAt: number;
  /** 5xx share of requests, 0..1. */
  errorRate: ReportSeries;
  /** p99 latency in seconds, when known. */
  latency?: ReportSeries;
  /** deploy start/complete, onset and anything else worth a line on the graph. */
  marks: readonly ReportMark[];
  /** The R1 window [deployStart, deployComplete + onset window], shaded on the graphs. */
  window?: { from: number; to: number; label: string };
  /** How the report was produced, e.g. the replay command line. */
  source?: string;
}

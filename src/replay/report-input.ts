import { formatDuration } from '../core/duration.js';
import type { Policy } from '../core/policy.js';
import { detectionGrid } from '../core/regression.js';
import type { MetricSource } from '../metrics/source.js';
import { signalSeries } from '../report/signal-series.js';
import type { ReportInput, ReportMark } from '../report/types.js';
import type { ChangeEvent } from '../core/change-events.js';
import type { ReplayedDeploy } from './decisions.js';

// The report page of one replayed deploy: the service's series from the baseline to a while after
// the decision (what came later is drawn greyed), and every moment of the timeline worth a line.

/** How far past the decision the graph goes, so the SRE sees what happened next. */
const AFTER_MS = 15 * 60_000;

function markOf(e: ChangeEvent): Omit<ReportMark, 'later'> | undefined {
  switch (e.type) {
    case 'config-change':
      return { at: e.at, kind: 'config', label: `${e.kind} ${e.name} ${e.action === 'update' ? (e.content === 'unchanged' ? 'rewritten (same content)' : e.content === 'unknown' ? 'written (content unknown)' : 'changed') : e.action === 'create' ? 'created' : 'deleted'}` };
    case 'config-collection-delete':
      return { at: e.at, kind: 'config', label: `${e.kind}s deleted together (deletecollection)` };
    case 'job-run':
      return { at: e.startedAt, kind: 'job', label: `Job ${e.name}` };
    case 'rollback':
      return { at: e.at, kind: 'rollback', label: `rollback of ${e.name}` };
    case 'deployment-template-change':
    case 'rollout-complete':
      return undefined;
  }
}

export async function buildReportInput(r: ReplayedDeploy, events: readonly ChangeEvent[], source: MetricSource, policy: Policy, command: string): Promise<ReportInput> {
  const { record, decidedAt } = r;
  const end = Math.max(r.until, decidedAt + AFTER_MS);
  const grid = detectionGrid(record.start, end, policy);
  // Draw the regressing service: under R2 it may be another one than the deployed service.
  const service = r.regression.signal !== undefined ? r.regression.service : r.service;
  const { errorRate: errorPoints, latency: latencyPoints } = await signalSeries(source, { namespace: record.namespace, service, deployStart: record.start, end, policy });
  const later = (at: number) => at > decidedAt;
  const marks: ReportMark[] = [{ at: record.start, kind: 'deploy-start', label: record.rollback ? 'rollback start' : 'deploy start' }];
  if (record.completeAt !== undefined) marks.push({ at: record.completeAt, kind: 'deploy-complete', label: 'rollout complete', later: later(record.completeAt) });
  if (r.regression.onset !== undefined) marks.push({ at: r.regression.onset, kind: 'onset', label: 'onset' });
  marks.push({ at: decidedAt, kind: 'decision', label: `verdict: ${r.decision.verdict}` });
  for (const e of events) {
    if (e.namespace !== record.namespace) continue;
    const m = markOf(e);
    if (m !== undefined && m.at >= grid.start && m.at <= end) marks.push({ ...m, later: later(m.at) });
  }
  const complete = r.decision.conditions.window.status !== 'unknown' && record.completeAt !== undefined && record.completeAt <= decidedAt ? record.completeAt : undefined;
  return {
    decision: r.decision,
    service,
    decidedAt,
    errorRate: { points: errorPoints, threshold: policy.thresholds.errorRate, ...(r.regression.errorRate ? { baseline: r.regression.errorRate.baseline } : {}) },
    ...(latencyPoints.length > 0 ? { latency: { points: latencyPoints, ...(r.regression.latency ? { baseline: r.regression.latency.baselineP99 } : {}) } } : {}),
    marks,
    ...(complete !== undefined ? { window: { from: record.start, to: complete + policy.onsetWindowMs, label: `R1 window: deploy start → complete + ${formatDuration(policy.onsetWindowMs)}` } } : {}),
    source: command,
  };
}

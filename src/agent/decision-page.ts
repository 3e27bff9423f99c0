import { formatDuration, formatInstant } from '../core/duration.js';
import type { Policy } from '../core/policy.js';
import type { MetricSource } from '../metrics/source.js';
import { html, raw, type Raw } from '../report/escape.js';
import { renderReport } from '../report/html.js';
import { signalSeries } from '../report/signal-series.js';
import type { ReportInput, ReportMark } from '../report/types.js';
import type { DecisionRecord } from './decision-record.js';

// The decision page a person opens from a notification: the replay report's look and content
// (signal with threshold, onset, deploy and now marked; conditions and evidence; change set; blast
// radius; command), plus the decision's live state and the Apply and Dismiss buttons.

const STATE_TEXT: Record<DecisionRecord['state'], string> = {
  open: 'open: waiting for a human decision',
  'rolled-back': 'rolled back by rollguard',
  applied: 'applied',
  dismissed: 'dismissed',
  expired: 'expired',
  'rollback-failed': 'the rollback failed',
  superseded: 'superseded',
  closed: 'closed',
};

const PAGE_STYLE = `
.live{margin:16px 0 0;padding:12px 14px;border-radius:8px;border:1px solid #cbd5e1;background:#fff}
.live strong{font-size:15px}
.banner{margin:16px 0 0;padding:10px 14px;border-radius:8px;font-weight:600}
.banner-ok{background:#dcfce7;color:#14532d;border:1px solid #86efac}
.banner-error{background:#fee2e2;color:#7f1d1d;border:1px solid #fca5a5}
form.actions{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin-top:12px}
form.actions input[type=password]{flex:1;min-width:280px;padding:8px 10px;border:1px solid #cbd5e1;border-radius:6px;font:13px ui-monospace,Menlo,Consolas,monospace}
form.actions button{padding:8px 18px;border-radius:6px;border:1px solid #0f172a;font-weight:700;cursor:pointer}
button.apply{background:#b91c1c;color:#fff;border-color:#7f1d1d}
button.dismiss{background:#fff;color:#0f172a}
.hint{color:#475569;font-size:12px;margin-top:6px}
`;

export interface PageOptions {
  now: number;
  csrf: string;
  ttlMs: number;
  /** The outcome of the button just pressed. */
  banner?: { ok: boolean; message: string };
  /** Extra HTML (the R9 handoff after a rollback). */
  extra?: Raw;
}

export async function decisionReportInput(record: DecisionRecord, source: MetricSource | undefined, policy: Policy, now: number): Promise<ReportInput> {
  const d = record.decision;
  const start = record.deployStart ?? record.firstDecidedAt;
  let series: Awaited<ReturnType<typeof signalSeries>> = { errorRate: [], latency: [] };
  let note: string | undefined;
  if (source !== undefined) {
    try {
      series = await signalSeries(source, { namespace: record.namespace, service: d.service, deployStart: start, end: now, policy });
    } catch (err) {
      note = `the metrics could not be read for the graph: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  const marks: ReportMark[] = [{ at: start, kind: 'deploy-start', label: 'deploy start' }];
  if (record.deployCompleteAt !== undefined) marks.push({ at: record.deployCompleteAt, kind: 'deploy-complete', label: 'rollout complete' });
  if (record.onset !== undefined) marks.push({ at: record.onset, kind: 'onset', label: 'onset' });
  marks.push({ at: record.firstDecidedAt, kind: 'decision', label: `decided: ${d.verdict}` });
  marks.push({ at: now, kind: 'other', label: 'now' });
  return {
    decision: d,
    service: d.service,
    decidedAt: now,
    errorRate: { points: series.errorRate, threshold: policy.thresholds.errorRate },
    ...(series.latency.length > 0 ? { latency: { points: series.latency } } : {}),
    marks,
    ...(record.deployCompleteAt !== undefined ? { window: { from: start, to: record.deployCompleteAt + policy.onsetWindowMs, label: `R1 window: deploy start → complete + ${formatDuration(policy.onsetWindowMs)}` } } : {}),
    source: note ?? `rollguard agent · decision ${record.id}`,
  };
}

function liveState(record: DecisionRecord, opts: PageOptions): Raw {
  const expires = record.firstDecidedAt + opts.ttlMs;
  const timing = html`first decided ${formatInstant(record.firstDecidedAt)} · last evaluated ${formatInstant(record.lastEvaluatedAt)}${record.state === 'open' ? html` · expires ${formatInstant(expires)}` : raw('')}`;
  const banner = opts.banner === undefined ? raw('') : html`<div class="banner ${opts.banner.ok ? 'banner-ok' : 'banner-error'}" id="banner">${opts.banner.message}</div>`;
  const canAct = record.state === 'open' && record.decision.command !== undefined && opts.now <= expires;
  const form = canAct
    ? html`<form class="actions" method="post" action="/decisions/${record.id}/apply">
<input type="hidden" name="csrf" value="${opts.csrf}">
<input type="password" name="token" autocomplete="off" placeholder="Kubernetes bearer token (not needed behind the authenticating proxy)" aria-label="bearer token">
<button class="apply" type="submit" id="apply">Apply rollback</button>
<button class="dismiss" type="submit" id="dismiss" formaction="/decisions/${record.id}/dismiss">Dismiss</button>
</form><div class="hint">Apply runs the command above as you: rollguard checks with the cluster that you may patch this Deployment, then acts in your name. The token is used once and never stored.</div>`
    : raw('');
  return html`${banner}<div class="live" id="state"><strong>State: ${STATE_TEXT[record.state]}</strong>${record.stateReason === undefined ? raw('') : html` — ${record.stateReason}`}<div class="sub">${timing}</div>${form}</div>`;
}

export function renderDecisionPage(input: ReportInput, record: DecisionRecord, opts: PageOptions): string {
  const page = renderReport(input, { top: liveState(record, opts), ...(opts.extra === undefined ? {} : { end: opts.extra }) });
  return page.replace('</style>', `${PAGE_STYLE}</style>`);
}

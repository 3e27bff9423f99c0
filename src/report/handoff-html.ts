import { formatInstant } from '../core/duration.js';
import type { CausalAssessment, Handoff, RecoveryStatus, RevisionFacts } from '../core/handoff-types.js';
import { renderChart } from './chart.js';
import { html, join, raw, type Raw } from './escape.js';
import { percent } from './html.js';
import type { ReportMark } from './types.js';

// R9 as an HTML section for the decision page: status and assessment with their evidence first,
// then the signal with threshold, onset, deploy and rollback marked, what was rolled back, and the
// other services. Uses the report's classes; the few of its own come with it.

export const HANDOFF_STYLE = `
.handoff .badges{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:8px}
.handoff .badge{border-radius:6px;padding:4px 10px;font-weight:700;border:1px solid}
.handoff .good{background:#dcfce7;color:#14532d;border-color:#86efac}
.handoff .warn{background:#fef3c7;color:#78350f;border-color:#fcd34d}
.handoff .bad{background:#fee2e2;color:#7f1d1d;border-color:#fca5a5}
.handoff .unknown{background:#e2e8f0;color:#334155;border-color:#cbd5e1}
.handoff h3{font-size:13px;margin:16px 0 6px;color:#475569}
`;

const STATUS: Record<RecoveryStatus, { text: string; tone: string }> = {
  recovered: { text: 'recovered', tone: 'good' },
  recovering: { text: 'recovering', tone: 'warn' },
  'not-recovering': { text: 'not recovering', tone: 'bad' },
  unknown: { text: 'unknown', tone: 'unknown' },
};

const ASSESSMENT: Record<CausalAssessment, { text: string; tone: string }> = {
  'likely-the-rolled-back-code': { text: 'likely the rolled-back code', tone: 'good' },
  'common-cause': { text: 'a common cause', tone: 'warn' },
  coincidence: { text: 'coincidence', tone: 'warn' },
  'cause-elsewhere': { text: 'the cause is elsewhere', tone: 'bad' },
  unknown: { text: 'not known yet', tone: 'unknown' },
};

/** How much of the pre-deploy baseline the graph shows: enough to see the normal level. */
const CONTEXT_MS = 10 * 60_000;

function marksOf(h: Handoff): ReportMark[] {
  const s = h.signal;
  const marks: ReportMark[] = [{ at: s.deployStart, kind: 'deploy-start', label: 'deploy start' }];
  if (s.deployComplete !== undefined) marks.push({ at: s.deployComplete, kind: 'deploy-complete', label: 'rollout complete' });
  if (s.onset !== undefined) marks.push({ at: s.onset, kind: 'onset', label: 'onset' });
  marks.push({ at: s.rollbackAt, kind: 'rollback', label: 'rollback' });
  if (s.rollbackComplete !== undefined) marks.push({ at: s.rollbackComplete, kind: 'rollback-complete', label: 'rollback complete' });
  if (h.recovery.backInBandSince !== undefined) marks.push({ at: h.recovery.backInBandSince, kind: 'other', label: 'back in band' });
  return marks;
}

/** A link only for http(s): anything else an annotation holds is shown as text. */
function link(url: string): Raw {
  return /^https?:\/\//i.test(url) ? html`<a href="${url}" rel="noreferrer">${url}</a>` : html`${url}`;
}

function revision(label: string, r: RevisionFacts): Raw {
  const parts: Raw[] = [html`${r.revision === undefined ? 'unknown revision' : `revision ${r.revision}`}`];
  if (r.commit !== undefined) parts.push(html` · commit <code>${r.commit}</code>`);
  if (r.pullRequest !== undefined) parts.push(html` · ${link(r.pullRequest)}`);
  if (r.changeCause !== undefined) parts.push(html` · ${r.changeCause}`);
  return html`<dt>${label}</dt><dd>${join(parts)}</dd>`;
}

function changeSet(h: Handoff): Raw {
  const c = h.changeSet;
  const rows = c.images.map((i) => html`<tr><td><code>${i.container}</code></td><td><code>${i.before ?? '—'}</code></td><td><code>${i.after ?? '—'}</code></td></tr>`);
  const images = rows.length > 0 ? html`<table style="margin-top:10px"><tr><th>container</th><th>before (running again)</th><th>after (rolled back)</th></tr>${join(rows)}</table>` : raw('');
  return html`<div class="panel"><p style="margin:0 0 8px">${c.summary}</p><dl class="kv">${revision('rolled back', c.rolledBack)}${revision('restored', c.restored)}<dt>template parts</dt><dd>${c.parts.join(', ') || 'none'}</dd></dl>${images}</div>`;
}

function neighbours(h: Handoff): Raw {
  if (h.neighbours.length === 0) return html`<p class="sub">no other service of the namespace was regressing at the rollback</p>`;
  const rows = h.neighbours.map(
    (n) => html`<tr><td><code>${n.service}</code></td><td>${percent(n.baseline)} → ${percent(n.incident)}</td><td>${n.backInBandSince === undefined ? 'not yet' : formatInstant(n.backInBandSince)}</td><td>${n.sameMoment ? 'yes' : 'no'}</td></tr>`,
  );
  return html`<table><tr><th>service</th><th>5xx share (baseline → incident)</th><th>back in band</th><th>same moment</th></tr>${join(rows)}</table>`;
}

function numbers(h: Handoff): string {
  const r = h.recovery;
  const parts: string[] = [];
  if (r.sinceRollback !== undefined) parts.push(`${percent(r.sinceRollback.share)} since the rollback (${Math.round(r.sinceRollback.requests)} requests)`);
  if (r.band !== undefined) parts.push(`healthy ≤ ${percent(r.band.healthy)}, elevated > ${percent(r.band.elevated)}`);
  return parts.join(' · ');
}

/** The handoff section, to embed in a page that carries the report's style (the decision page). */
export function renderHandoffSection(h: Handoff): Raw {
  const status = STATUS[h.recovery.status];
  const assessment = ASSESSMENT[h.assessment.kind];
  const s = h.signal;
  const chart = renderChart({
    title: `5xx share of requests · ${h.service}`,
    series: { points: s.points.filter((p) => p.t >= s.deployStart - CONTEXT_MS), threshold: s.threshold, ...(s.baseline === undefined ? {} : { baseline: s.baseline }) },
    marks: marksOf(h),
    formatValue: percent,
  });
  const notes = h.notes.length > 0 ? html`<h3>Notes</h3><div class="panel"><ul>${join(h.notes.map((n) => html`<li>${n}</li>`))}</ul></div>` : raw('');
  return html`<section class="handoff" id="handoff" data-status="${h.recovery.status}" data-assessment="${h.assessment.kind}" data-settled="${String(h.settled)}"><style>${raw(HANDOFF_STYLE)}</style>
<h2>Handoff after the automatic rollback</h2>
<div class="panel"><div class="badges"><span class="badge ${status.tone}">error rate: ${status.text}</span><span class="badge ${assessment.tone}">cause: ${assessment.text}</span><span class="sub">${h.settled ? 'settled: no longer watched' : 'still watching'} · as of ${formatInstant(h.at)}</span></div>
<ul>${join(h.assessment.evidence.map((e) => html`<li>${e}</li>`))}</ul>
<p class="sub" style="margin:6px 0 0">${h.recovery.evidence.join(' ')}${numbers(h) === '' ? '' : ` (${numbers(h)})`}</p></div>
<h3>Signal</h3><div class="panel">${chart}${s.byRevision === undefined ? raw('') : html`<p class="sub" style="margin:6px 0 0">when rolled back, 5xx by revision: ${s.byRevision}</p>`}</div>
<h3>What was rolled back</h3>${changeSet(h)}
<h3>Other services of the namespace</h3>${neighbours(h)}
${notes}</section>`;
}

import { CONDITION_KEYS, CONDITION_LABELS, type ConditionStatus, type Decision } from '../core/decision-types.js';
import { formatInstant } from '../core/duration.js';
import { splitRows, SPLIT_CONCLUSION } from '../core/revision-split.js';
import { share } from '../core/stats-binomial.js';
import { renderChart } from './chart.js';
import { html, join, raw, type Raw } from './escape.js';
import type { ReportInput } from './types.js';

// One self-contained HTML page per deploy: verdict and command first (what the on-call engineer
// acts on), then the signal with every moment that matters marked, the conditions with their
// evidence, and the change set. No script, no external asset: it opens from a file, offline.

const STATUS_ICON: Record<ConditionStatus, string> = { met: '✓', unmet: '✗', unknown: '?' };
const STATUS_WORD: Record<ConditionStatus, string> = { met: 'met', unmet: 'not met', unknown: 'unknown' };

const VERDICT_TEXT: Record<Decision['verdict'], string> = {
  auto: 'AUTO — rollguard rolls back',
  suggest: 'SUGGEST — a human decides',
  none: 'NONE — nothing to act on',
};

/** 0.02 → "2%", 0.004 → "0.4%", 0.0125 → "1.25%": as many decimals as the value needs, at most two. */
export const percent = (v: number): string => `${Number((v * 100).toFixed(2)).toString()}%`;
const seconds = (v: number): string => (v < 1 ? `${Math.round(v * 1000)} ms` : `${v.toFixed(2)} s`);

export const STYLE = `
*{box-sizing:border-box}
body{margin:0;background:#f8fafc;color:#0f172a;font:14px/1.5 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"DejaVu Sans",sans-serif}
main{max-width:1160px;margin:0 auto;padding:24px 28px 40px}
header{display:flex;justify-content:space-between;align-items:flex-start;gap:24px;border-bottom:1px solid #e2e8f0;padding-bottom:16px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:15px;text-transform:uppercase;letter-spacing:.06em;color:#475569;margin:28px 0 10px}
.sub{color:#475569}
.verdict{border-radius:8px;padding:10px 16px;font-weight:700;font-size:15px;white-space:nowrap;border:1px solid}
.verdict-auto{background:#dcfce7;color:#14532d;border-color:#86efac}
.verdict-suggest{background:#fef3c7;color:#78350f;border-color:#fcd34d}
.verdict-none{background:#e2e8f0;color:#334155;border-color:#cbd5e1}
.meta{text-align:right;color:#475569;margin-top:6px;font-size:13px}
.summary{font-size:16px;margin:16px 0 0}
.command{background:#0f172a;color:#e2e8f0;border-radius:8px;padding:14px 16px;font:13px/1.5 ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.command .prompt{color:#64748b;user-select:none}
.panel{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px 14px}
svg{display:block;max-width:100%;height:auto}
svg text{font:12px -apple-system,"Segoe UI",Roboto,Arial,"DejaVu Sans",sans-serif;fill:#334155}
svg .chart-title{font-weight:700;font-size:13px;fill:#0f172a}
svg .axis{fill:#64748b}
svg .muted{fill:#94a3b8;font-style:italic}
svg .threshold{fill:#dc2626}
svg .window-label{fill:#1d4ed8;font-size:11px}
svg .mark-label{font-size:11.5px;font-weight:600}
svg .mark-label,svg .window-label,svg .muted,svg .threshold{paint-order:stroke;stroke:#fff;stroke-width:3.5px;stroke-linejoin:round}
svg .grid{stroke:#e2e8f0}
svg .axis-line{stroke:#94a3b8}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #e2e8f0;border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:8px 12px;border-bottom:1px solid #f1f5f9;vertical-align:top}
th{background:#f8fafc;color:#475569;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
td.icon{width:34px;font-size:17px;font-weight:700;text-align:center}
.s-met{color:#15803d}.s-unmet{color:#b91c1c}.s-unknown{color:#b45309}
td.rule{white-space:nowrap;font-weight:600;width:280px}
.status{font-size:12px;color:#64748b;display:block;font-weight:400}
ul{margin:6px 0;padding-left:20px}
code{font:12.5px ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;background:#f1f5f9;border-radius:4px;padding:1px 5px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.kv{display:grid;grid-template-columns:170px 1fr;gap:4px 12px}
.kv dt{color:#64748b}.kv dd{margin:0}
footer{margin-top:32px;color:#94a3b8;font-size:12px;border-top:1px solid #e2e8f0;padding-top:10px}
`;

function conditionRows(d: Decision): Raw {
  return join(
    CONDITION_KEYS.map((key) => {
      const c = d.conditions[key];
      return html`<tr><td class="icon s-${c.status}" title="${STATUS_WORD[c.status]}">${STATUS_ICON[c.status]}</td><td class="rule">${CONDITION_LABELS[key]}<span class="status">${STATUS_WORD[c.status]}</span></td><td>${c.evidence}</td></tr>`;
    }),
  );
}

function list(items: readonly string[], empty: string): Raw {
  if (items.length === 0) return html`<p class="sub">${empty}</p>`;
  return html`<ul>${join(items.map((i) => html`<li>${i}</li>`))}</ul>`;
}

function changeSet(d: Decision): Raw {
  const cs = d.changeSet;
  const diff = cs.diff;
  const images = diff?.images ?? [];
  const facts: Raw[] = [html`<dt>classification</dt><dd><strong>${cs.kind}</strong></dd>`];
  if (diff) {
    facts.push(html`<dt>template parts changed</dt><dd>${diff.parts.length > 0 ? diff.parts.join(', ') : 'none'}</dd>`);
    if (diff.outsideTemplate.length > 0) facts.push(html`<dt>outside the template</dt><dd>${diff.outsideTemplate.join(', ')}</dd>`);
    if (diff.refsAdded.length > 0) facts.push(html`<dt>now reads</dt><dd>${diff.refsAdded.map((r) => `${r.kind} ${r.name}`).join(', ')}</dd>`);
    if (diff.refsRemoved.length > 0) facts.push(html`<dt>no longer reads</dt><dd>${diff.refsRemoved.map((r) => `${r.kind} ${r.name}`).join(', ')}</dd>`);
  } else {
    facts.push(html`<dt>objects</dt><dd>not known (no request body in the audit log)</dd>`);
  }
  const imageRows = images.map((i) => html`<tr><td><code>${i.container}</code></td><td><code>${i.before ?? '—'}</code></td><td><code>${i.after ?? '—'}</code></td></tr>`);
  return html`<div class="panel"><dl class="kv">${join(facts)}</dl>
${images.length > 0 ? html`<h3 class="sub" style="font-size:13px;margin:12px 0 6px">Images</h3><table><tr><th>container</th><th>before</th><th>after</th></tr>${join(imageRows)}</table>` : raw('')}
${cs.reasons.length > 0 ? html`<p style="margin:12px 0 0"><strong>Why it is not pod-spec-only</strong></p>${list(cs.reasons, '')}` : raw('')}
${cs.notes.length > 0 ? html`<p style="margin:12px 0 0"><strong>Notes</strong></p>${list(cs.notes, '')}` : raw('')}</div>`;
}

function blastRadius(d: Decision): Raw {
  const b = d.blastRadius;
  const replicas = b.replicas === undefined ? 'unknown' : `${b.updatedReplicas ?? '?'} of ${b.replicas} updated${b.partial ? ' (rollout not finished: a rollback starts from a mixed state)' : ''}`;
  const shared = b.sharedConfig.map((s) => `${s.kind} ${s.name} (shares ${s.via.join(', ')})`);
  return html`<div class="panel"><dl class="kv">
<dt>replicas</dt><dd>${replicas}</dd>
<dt>traffic share</dt><dd>${b.trafficShare === undefined ? 'unknown' : percent(b.trafficShare)}</dd>
<dt>owner</dt><dd>${d.owner.kind === 'none' ? 'none (plain Deployment)' : `${d.owner.kind}${d.owner.name ? ` ${d.owner.name}` : ''}${d.owner.reconciles ? ' — reconciles continuously' : ''}`}</dd>
<dt>shared config</dt><dd>${shared.length > 0 ? shared.join('; ') : 'no other workload reads this Deployment’s config'}</dd>
</dl>${d.owner.route.length > 0 ? html`<p style="margin:10px 0 4px"><strong>Owner-native route</strong></p><div class="command">${d.owner.route.join('\n')}</div>` : raw('')}</div>`;
}

/** The 5xx share per revision under the chart, when the metrics carry a pod label. */
function revisions(d: Decision): Raw {
  const s = d.revisionSplit;
  if (s === undefined) return raw('');
  const rows = splitRows(s).map((r) => html`<tr><td>${r.label}</td><td>${r.revisions === '' ? '—' : r.revisions}</td><td>${String(r.pods)}</td><td>${r.share}</td><td>${String(r.requests)}</td></tr>`);
  return html`<div class="panel" style="margin-top:12px"><p style="margin:0 0 6px"><strong>5xx by revision</strong> since ${formatInstant(s.since)}: ${SPLIT_CONCLUSION[s.kind]}</p>
<table><tr><th>pods</th><th>revision</th><th>count</th><th>5xx share</th><th>requests</th></tr>${join(rows)}<tr><td>every pod, before the deploy</td><td>—</td><td>—</td><td>${percent(share(s.baseline))}</td><td>${String(Math.round(s.baseline.n))}</td></tr></table>
<p class="sub" style="margin:6px 0 0">${s.evidence}</p></div>`;
}

/** Extra sections a caller adds: the decision page's live state and buttons, a handoff. */
export interface ReportSections {
  /** Right after the summary, before the command. */
  top?: Raw;
  /** After the notes. */
  end?: Raw;
  /** Inline script (the page's own; the report file has none). */
  script?: string;
}

export function renderReport(input: ReportInput, sections: ReportSections = {}): string {
  const d = input.decision;
  const title = `${d.namespace}/${d.deployment}`;
  const marks = input.marks;
  const whose = input.service === input.decision.service ? input.service : `${input.service} (the regressing service, not the deployed ${input.decision.service})`;
  const errorChart = renderChart({ title: `5xx share of requests · ${whose}`, series: input.errorRate, marks, decidedAt: input.decidedAt, window: input.window, formatValue: percent });
  const latencyChart = input.latency ? renderChart({ title: `p99 latency · ${whose}`, series: input.latency, marks, decidedAt: input.decidedAt, window: input.window, formatValue: seconds, height: 240 }) : undefined;
  const command = d.command === undefined ? html`<div class="command">no previous revision to roll back to</div>` : html`<div class="command"><span class="prompt">$ </span>${d.command}</div>`;
  const page = html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>rollguard: ${title} — ${d.verdict}</title><style>${raw(STYLE)}</style></head>
<body><main>
<header><div><div class="sub">rollguard decision · service <strong>${d.service}</strong></div><h1>${title}</h1>
<div class="sub">decided as of ${formatInstant(input.decidedAt)} (UTC), from what was known then</div></div>
<div><div class="verdict verdict-${d.verdict}">${VERDICT_TEXT[d.verdict]}</div><div class="meta">confidence <strong>${Math.round(d.confidence * 100)}%</strong></div></div></header>
<p class="summary">${d.summary}</p>
${sections.top ?? raw('')}
<h2>Rollback command</h2>${command}
<h2>Signal</h2><div class="panel">${errorChart}</div>
${revisions(d)}
${latencyChart ? html`<div class="panel" style="margin-top:12px">${latencyChart}</div>` : raw('')}
<h2>Conditions</h2><table><tr><th></th><th>rule</th><th>evidence</th></tr>${conditionRows(d)}</table>
<h2>Change set</h2>${changeSet(d)}
<div class="grid2"><div><h2>Blast radius</h2>${blastRadius(d)}</div><div><h2>Notes</h2><div class="panel">${list(d.notes, 'none')}</div></div></div>
${sections.end ?? raw('')}
<footer>rollguard report · times in UTC · marks after the decision are shown for context and were not used${input.source ? html` · ${input.source}` : raw('')}</footer>
</main>${sections.script === undefined ? raw('') : html`<script>${raw(sections.script)}</script>`}</body></html>
`;
  return page.value;
}

import { html, join, raw, type Raw } from './escape.js';
import type { MarkKind, ReportMark, ReportSeries } from './types.js';

// One time-series chart as inline SVG: the series, its threshold and baseline, the R1 window
// shaded, a vertical line per mark (deploy start/complete, onset, the decision, config changes,
// Jobs) with labels that do not overlap, and the span after the decision greyed out so nothing
// that happened later passes for evidence.

export interface ChartOptions {
  title: string;
  series: ReportSeries;
  marks: readonly ReportMark[];
  /** Greys the span after it (not evidence); the handoff, drawn after the fact, passes none. */
  decidedAt?: number | undefined;
  /** The R1 window [deployStart, deployComplete + onset window], when known. */
  window?: { from: number; to: number; label: string } | undefined;
  formatValue: (v: number) => string;
  width?: number;
  height?: number;
}

export const MARK_COLORS: Record<MarkKind, string> = {
  'deploy-start': '#1d4ed8',
  'deploy-complete': '#1d4ed8',
  onset: '#dc2626',
  decision: '#111827',
  config: '#7c3aed',
  job: '#b45309',
  rollback: '#047857',
  'rollback-complete': '#047857',
  other: '#475569',
};

const MINUTE = 60_000;
const TICK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * MINUTE);
const LABEL_ROW = 14;
// Average advance of the 11.5px semibold label font; generous so labels never collide.
const CHAR_W = 7.2;

/** A round tick step (1, 2, 2.5 or 5 × 10^k) giving at most four intervals up to `v`. */
function niceStep(v: number): number {
  if (v <= 0) return 0.25;
  const raw = v / 4;
  const exp = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= raw) return m * exp;
  return 10 * exp;
}

export function clockLabel(t: number): string {
  return new Date(t).toISOString().slice(11, 16);
}

/** Assigns each label the first row where it does not overlap the previous label (by pixel extent). */
function labelRows(items: readonly { x: number; width: number }[]): number[] {
  const rowEnds: number[] = [];
  return items.map((it) => {
    let row = rowEnds.findIndex((end) => it.x > end + 6);
    if (row < 0) row = rowEnds.length;
    rowEnds[row] = it.x + it.width;
    return row;
  });
}

export function renderChart(o: ChartOptions): Raw {
  const width = o.width ?? 1100;
  const points = o.series.points;
  const times = [...points.map((p) => p.t), ...o.marks.map((m) => m.at)];
  if (o.decidedAt !== undefined) times.push(o.decidedAt);
  if (o.window) times.push(o.window.from, o.window.to);
  const t0 = Math.min(...times);
  const t1 = Math.max(...times, t0 + MINUTE);
  const pad = (t1 - t0) * 0.02;
  const x0 = t0 - pad;
  const x1 = t1 + pad;

  const sortedMarks = [...o.marks].sort((a, b) => a.at - b.at);
  const left = 70;
  const right = 24;
  const plotW = width - left - right;
  const sx = (t: number) => left + ((t - x0) / (x1 - x0)) * plotW;
  // A label starts right of its line, or ends left of it when it would run off the chart.
  const labels = sortedMarks.map((m) => {
    const text = m.later === true ? `${m.label} (later)` : m.label;
    const w = text.length * CHAR_W;
    const flip = sx(m.at) + 3 + w > width - 4;
    return { mark: m, text, flip, x: flip ? sx(m.at) - 3 - w : sx(m.at) + 3, width: w };
  });
  const rows = labelRows(labels);
  const rowCount = Math.max(1, ...rows.map((r) => r + 1));
  const top = 30 + rowCount * LABEL_ROW;
  const plotH = (o.height ?? 300) - 60;
  const height = top + plotH + 44;
  const bottom = top + plotH;

  const values = [...points.map((p) => p.v), o.series.threshold ?? 0, o.series.baseline ?? 0];
  const highest = Math.max(...values) * 1.05;
  const yStep = niceStep(highest);
  const yTicks = Math.max(1, Math.ceil(highest / yStep));
  const yMax = yStep * yTicks;
  const sy = (v: number) => bottom - (v / yMax) * plotH;

  const parts: Raw[] = [];
  parts.push(html`<text x="${left}" y="18" class="chart-title">${o.title}</text>`);
  // The span after the decision: context, not evidence.
  if (o.decidedAt !== undefined && o.decidedAt < x1) {
    const xd = sx(o.decidedAt);
    parts.push(html`<rect x="${xd.toFixed(1)}" y="${top}" width="${(left + plotW - xd).toFixed(1)}" height="${plotH}" fill="#f1f5f9"/>`);
    parts.push(html`<text x="${(left + plotW - 6).toFixed(1)}" y="${top + 14}" text-anchor="end" class="muted">after the decision (not used)</text>`);
  }
  if (o.window) {
    const a = sx(Math.max(o.window.from, x0));
    const b = sx(Math.min(o.window.to, x1));
    parts.push(html`<rect x="${a.toFixed(1)}" y="${top}" width="${Math.max(0, b - a).toFixed(1)}" height="${plotH}" fill="#dbeafe" fill-opacity="0.55"/>`);
    parts.push(html`<text x="${(a + 4).toFixed(1)}" y="${bottom - 6}" class="window-label">${o.window.label}</text>`);
  }
  for (let i = 0; i <= yTicks; i++) {
    const v = yStep * i;
    const y = sy(v).toFixed(1);
    parts.push(html`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" class="grid"/>`);
    parts.push(html`<text x="${left - 8}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end" class="axis">${o.formatValue(v)}</text>`);
  }
  const step = TICK_STEPS.find((s) => (x1 - x0) / s <= 10) ?? 1440 * MINUTE;
  for (let t = Math.ceil(x0 / step) * step; t <= x1; t += step) {
    const x = sx(t).toFixed(1);
    parts.push(html`<line x1="${x}" x2="${x}" y1="${bottom}" y2="${bottom + 5}" class="axis-line"/>`);
    parts.push(html`<text x="${x}" y="${bottom + 18}" text-anchor="middle" class="axis">${clockLabel(t)}</text>`);
  }
  parts.push(html`<text x="${left + plotW}" y="${bottom + 34}" text-anchor="end" class="muted">UTC</text>`);
  parts.push(html`<line x1="${left}" x2="${left + plotW}" y1="${bottom}" y2="${bottom}" class="axis-line"/>`);

  if (points.length > 0) {
    const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.t).toFixed(1)},${sy(p.v).toFixed(1)}`).join('');
    const first = points[0];
    const last = points[points.length - 1];
    if (first && last) {
      parts.push(html`<path d="${d}L${sx(last.t).toFixed(1)},${bottom}L${sx(first.t).toFixed(1)},${bottom}Z" fill="#0f766e" fill-opacity="0.08"/>`);
    }
    parts.push(html`<path d="${d}" fill="none" stroke="#0f766e" stroke-width="2" stroke-linejoin="round"/>`);
  } else {
    parts.push(html`<text x="${left + plotW / 2}" y="${top + plotH / 2}" text-anchor="middle" class="muted">no data</text>`);
  }
  if (o.series.baseline !== undefined) {
    const y = sy(o.series.baseline).toFixed(1);
    parts.push(html`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#64748b" stroke-dasharray="2 4" stroke-width="1.5"/>`);
    parts.push(html`<text x="${left + 6}" y="${(sy(o.series.baseline) - 5).toFixed(1)}" class="muted">baseline ${o.formatValue(o.series.baseline)}</text>`);
  }
  if (o.series.threshold !== undefined) {
    const y = sy(o.series.threshold).toFixed(1);
    parts.push(html`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#dc2626" stroke-dasharray="8 5" stroke-width="1.5"/>`);
    parts.push(html`<text x="${left + plotW - 6}" y="${(sy(o.series.threshold) - 5).toFixed(1)}" text-anchor="end" class="threshold">threshold ${o.formatValue(o.series.threshold)}</text>`);
  }
  labels.forEach((l, i) => {
    const m = l.mark;
    const x = sx(m.at).toFixed(1);
    const color = m.later === true ? '#94a3b8' : MARK_COLORS[m.kind];
    const dash = m.kind === 'deploy-complete' || m.kind === 'rollback-complete' || m.later === true ? ' stroke-dasharray="5 4"' : '';
    const labelY = 30 + (rows[i] ?? 0) * LABEL_ROW;
    parts.push(raw(`<line x1="${x}" x2="${x}" y1="${labelY + 3}" y2="${bottom}" stroke="${color}" stroke-width="${m.kind === 'decision' || m.kind === 'onset' ? 2 : 1.5}"${dash}/>`));
    const anchor = l.flip ? 'end' : 'start';
    const tx = l.flip ? sx(m.at) - 3 : sx(m.at) + 3;
    parts.push(html`<text x="${tx.toFixed(1)}" y="${labelY}" fill="${color}" text-anchor="${anchor}" class="mark-label">${l.text}</text>`);
  });
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${o.title}">${join(parts)}</svg>`;
}

// The hardening run's one table: per part, what was held, what was tried, what was lost (must be
// nothing). A part is a function that returns its row; the load, certificate-rotation and
// fault-schedule parts of issue 17 plug in the same way.

export interface HardenRow {
  part: string;
  held: string;
  tried: string;
  /** What broke; empty when nothing did. */
  lost: string[];
}

export interface HardenPart {
  name: string;
  run(opts: { short: boolean }): Promise<HardenRow>;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderTable(rows: readonly HardenRow[]): string {
  const lines = ['| part | what was held | what was tried | what was lost |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${cell(r.part)} | ${cell(r.held)} | ${cell(r.tried)} | ${cell(r.lost.length === 0 ? 'nothing' : r.lost.join('; '))} |`);
  return `${lines.join('\n')}\n`;
}

/** p-quantile of latencies in ms (nearest rank). */
export function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

/** A small seeded generator (mulberry32): the same seed gives the same inputs, run after run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const count = (n: number): string => n.toLocaleString('en-US');

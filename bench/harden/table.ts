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
  /** One row, or several (a row per fault type and invariant). */
  run(opts: { short: boolean }): Promise<HardenRow | HardenRow[]>;
  /** The test file that runs this part's short version in CI, when it is not harden.test.ts (a long part runs in parallel with the rest). */
  ciFile?: string;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderTable(rows: readonly HardenRow[]): string {
  const lines = ['| part | what was held | what was tried | what was lost |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${cell(r.part)} | ${cell(r.held)} | ${cell(r.tried)} | ${cell(r.lost.length === 0 ? 'nothing' : r.lost.join('; '))} |`);
  return `${lines.join('\n')}\n`;
}

export const count = (n: number): string => n.toLocaleString('en-US');

import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { formatInstant } from '../core/duration.js';
import { html, raw } from './escape.js';
import { STYLE } from './html.js';
import type { ReportInput } from './types.js';

// The index.html next to the per-deploy reports of one run: every report, one row each, linked by
// its file name (the directory can be moved or served as it is).

export const INDEX_FILE = 'index.html';

export interface IndexedReport {
  path: string;
  input: ReportInput;
  deployStart: number | undefined;
}

export function renderReportIndex(reports: readonly IndexedReport[], source: string | undefined): string {
  const rows = reports.map(({ path, input, deployStart }) => {
    const d = input.decision;
    return html`<tr><td><a href="${encodeURIComponent(basename(path))}">${d.namespace}/${d.deployment}</a></td><td>${deployStart === undefined ? 'unknown' : formatInstant(deployStart)}</td><td><span class="verdict verdict-${d.verdict}">${d.verdict}</span></td><td>${Math.round(d.confidence * 100)}%</td><td>${d.summary}</td></tr>`.value;
  });
  const count = `${reports.length} report${reports.length === 1 ? '' : 's'}`;
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>rollguard: ${count}</title><style>${raw(STYLE)}</style></head>
<body><main>
<header><div><div class="sub">rollguard reports</div><h1>${count}</h1>${source === undefined ? raw('') : html`<div class="sub">${source}</div>`}</div></header>
<h2>Deploys with a regression</h2>
<table><tr><th>deployment</th><th>deploy start (UTC)</th><th>verdict</th><th>confidence</th><th>summary</th></tr>${raw(rows.join('\n'))}</table>
</main></body></html>
`.value;
}

/** Writes index.html into dir (where the reports are) and returns its path. */
export async function writeReportIndex(dir: string, reports: readonly IndexedReport[], source: string | undefined): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, INDEX_FILE);
  await writeFile(path, renderReportIndex(reports, source), 'utf8');
  return path;
}

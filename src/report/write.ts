import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderReport } from './html.js';
import type { ReportInput } from './types.js';

// Writes one report page per deploy into a directory, named so pages sort by deploy and time.

export function reportFileName(input: ReportInput, deployStart: number | undefined): string {
  const when = deployStart === undefined ? 'unknown-start' : new Date(deployStart).toISOString().replace(/[:.]/g, '').replace(/\d{3}Z$/, 'Z');
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '-');
  return `${safe(input.decision.namespace)}_${safe(input.decision.deployment)}_${when}.html`;
}

export async function writeReport(dir: string, input: ReportInput, deployStart: number | undefined): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, reportFileName(input, deployStart));
  await writeFile(path, renderReport(input), 'utf8');
  return path;
}

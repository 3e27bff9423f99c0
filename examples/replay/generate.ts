import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildReplayExample } from './build.js';

// `npm run examples:generate [-- DIR]`: writes audit.log, metrics.om and expected.json (into
// examples/replay/ by default). Deterministic: the committed files are what this writes.

export const FILES = { audit: 'audit.log', metrics: 'metrics.om', expected: 'expected.json' } as const;

export async function writeReplayExample(dir: string): Promise<void> {
  const example = buildReplayExample();
  await mkdir(dir, { recursive: true });
  for (const [key, file] of Object.entries(FILES) as [keyof typeof FILES, string][]) await writeFile(join(dir, file), example[key]);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const dir = process.argv[2] ?? import.meta.dirname;
  await writeReplayExample(dir);
  process.stdout.write(`wrote ${Object.values(FILES).join(', ')} to ${dir}\n`);
}

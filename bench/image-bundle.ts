import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

// The CLI as the image carries it (scripts/bundle.ts, the esbuild bundle the Dockerfile builds), so
// a benchmark measures the program a Pod runs rather than the TypeScript loader's.

const ROOT = join(import.meta.dirname, '..');

/** Bundles into a scratch dir inside the repo (the bundle reads the package.json above it). */
export async function buildBundle(name: string): Promise<{ main: string; remove: () => Promise<void> }> {
  const out = join(ROOT, '.rollguard-tmp', name);
  await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'scripts', 'bundle.ts'), out], { cwd: ROOT, timeout: 120_000 });
  return { main: join(out, 'rollguard.mjs'), remove: () => rm(out, { recursive: true, force: true }) };
}

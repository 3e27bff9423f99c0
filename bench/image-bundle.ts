import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/**
 * The environment the image sets for its program (the runtime stage's ENV lines of the Dockerfile),
 * e.g. MALLOC_ARENA_MAX, so a benchmark's process runs as it does in the container. Not
 * ROLLGUARD_IN_CONTAINER: outside a container it would have the process listen beyond loopback.
 */
export function imageEnv(dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')): Record<string, string> {
  const stages = dockerfile.split(/^FROM\s/m);
  const env: Record<string, string> = {};
  for (const line of (stages.at(-1) ?? '').split('\n')) {
    const m = /^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined && m[1] !== 'ROLLGUARD_IN_CONTAINER') env[m[1]] = m[2];
  }
  return env;
}

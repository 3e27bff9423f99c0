import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// `npm run bench`: runs every `bench:*` script in package.json in turn. Each benchmark measures
// its own baseline in the same run and prints its figures and ratios.

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const only = process.argv.slice(2);
const names = Object.keys(pkg.scripts)
  .filter((s) => s.startsWith('bench:'))
  .filter((s) => only.length === 0 || only.includes(s.slice('bench:'.length)));

let failed = 0;
for (const name of names) {
  process.stdout.write(`\n=== ${name} ===\n`);
  const r = spawnSync('npm', ['run', '--silent', name], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`${name} failed (exit ${String(r.status)})\n`);
  }
}
process.stdout.write(`\n${names.length} benchmarks run, ${failed} failed\n`);
process.exitCode = failed > 0 ? 1 : 0;

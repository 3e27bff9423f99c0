import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The package's `rollguard` command as npm links it (`npx rollguard`): it runs from a checkout
// without a build, prints its version, and under an unsupported Node says so in one line.

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { rollguard: string } }).bin.rollguard);
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function run(args: string[], nodeArgs: string[] = []) {
  return spawnSync(process.execPath, [...nodeArgs, BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

describe('the rollguard command', () => {
  it('prints the package version with --version', () => {
    const r = run(['--version']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(VERSION);
    expect(r.status).toBe(0);
  });

  it('runs a verb from the source of a checkout, with no dist/ needed', () => {
    const r = run(['examples']);
    expect(r.stdout).toMatch(/12 incidents, 12 gave their stated verdict/);
    expect(r.status).toBe(0);
  });

  it('F5 under a Node older than 22: one line naming the version needed, exit 1, no stack trace', () => {
    const r = run(['--help'], ['--import', 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.20.2"})']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^rollguard: needs Node\.js 22 or later, this is 20\.20\.2/);
  });
});

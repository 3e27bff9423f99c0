import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAsync, type CliResult } from '../support/run-cli.js';
import { docPages, readPage, REPO_ROOT, runnableBlocks, type RunnableBlock } from './markdown.js';

// Every ```sh block marked <!-- runnable --> in README.md and docs/ runs, from the repository root,
// with `rollguard` on the PATH (this checkout's bin/rollguard.js on the Node running the tests),
// after `npm ci` (CI runs it before the tests). It must exit 0, and the
// <!-- output --> block after it must appear in its standard output, line by line in order; a line
// that is only "…" stands for lines left out. One process per block.

const blocks = docPages().flatMap((page) => runnableBlocks(page, readPage(page)));

const binDir = mkdtempSync(join(tmpdir(), 'rollguard-docs-bin-'));
writeFileSync(join(binDir, 'rollguard'), `#!/bin/sh\nexec "${process.execPath}" "${join(REPO_ROOT, 'bin', 'rollguard.js')}" "$@"\n`);
chmodSync(join(binDir, 'rollguard'), 0o755);
afterAll(() => {
  rmSync(binDir, { recursive: true, force: true });
});

function run(block: RunnableBlock): Promise<CliResult> {
  const env = { ...process.env, PATH: [binDir, dirname(process.execPath), process.env.PATH ?? ''].join(delimiter), NO_COLOR: '1' };
  return runAsync('sh', ['-e', '-c', block.script], { cwd: REPO_ROOT, env, timeoutMs: 110_000 });
}

/** The first documented output line not found in order in the actual output, or undefined. */
function missingLine(documented: readonly string[], actual: string): string | undefined {
  const lines = actual.split('\n').map((l) => l.trimEnd());
  let at = 0;
  for (const want of documented.map((l) => l.trimEnd())) {
    if (want === '…') continue;
    const found = lines.indexOf(want, at);
    if (found < 0) return want;
    at = found + 1;
  }
  return undefined;
}

describe('docs: runnable shell examples run', () => {
  it('the README runs its no-cluster command, and replay and decide examples are runnable too', () => {
    // The README's first line is `npm ci && npm start`; its section on what that prints runs `npm start`
    // (once: the same command) and checks its output.
    const firstCommand = /```sh\n(npm ci && npm start)\s/.exec(readPage('README.md'))?.[1];
    expect(firstCommand).toBe('npm ci && npm start');
    const readme = blocks.filter((b) => b.page === 'README.md');
    expect(readme.some((b) => b.script.trim() === 'npm start' && b.output !== undefined), 'README runs npm start and checks what it prints').toBe(true);
    expect(blocks.some((b) => /^rollguard replay /m.test(b.script))).toBe(true);
    expect(blocks.some((b) => /^rollguard decide /m.test(b.script))).toBe(true);
  });

  it.each(blocks.map((b) => [`${b.page}:${String(b.line)}`, b] as const))('%s', async (_where, block) => {
    const r = await run(block);
    expect(r.status, `${block.page}:${String(block.line)} exited ${String(r.status)}:\n${r.stderr}`).toBe(0);
    if (block.output !== undefined) {
      const missing = missingLine(block.output, r.stdout);
      expect(missing, `${block.page}:${String(block.line)}: the documented output line\n  ${missing ?? ''}\nis not in the output (in order):\n${r.stdout}`).toBeUndefined();
    }
  }, 120_000);
});

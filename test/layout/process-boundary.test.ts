import { dirname, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, sources } from '../support/source-imports.js';

// Each long-running process has its own folder: src/admission is the webhook, src/agent the agent.
// What both use (policy loading and CRDs, the stamp cache and the reading of stamps, the health
// routes) lives in rooms of its own, so neither process's folder imports the other's, and the
// shared rooms import neither: a change to one process cannot reach into the other by accident.

const SRC = resolve(import.meta.dirname, '..', '..', 'src');
const PROCESSES = ['admission', 'agent'];
const SHARED = ['policy', 'stamps', 'health', 'kube', 'core'];

/** The top-level src folders a file reaches through its relative imports. */
function foldersImportedBy(file: string): string[] {
  return importsOf(file)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => relative(SRC, resolve(dirname(file), spec)).split(sep)[0] ?? '');
}

function forbiddenImports(folder: string, forbidden: readonly string[]): string[] {
  return sources(resolve(SRC, folder)).flatMap((file) =>
    foldersImportedBy(file)
      .filter((f) => forbidden.includes(f))
      .map((f) => `${relative(SRC, file)} imports src/${f}`),
  );
}

describe('no process folder imports another process folder', () => {
  it.each(PROCESSES.map((p) => [p, PROCESSES.filter((o) => o !== p)] as const))('src/%s imports no other process folder', (folder, others) => {
    expect(sources(resolve(SRC, folder)).length).toBeGreaterThan(5);
    expect(forbiddenImports(folder, others)).toEqual([]);
  });

  it.each(SHARED)('shared src/%s imports no process folder', (folder) => {
    expect(forbiddenImports(folder, PROCESSES)).toEqual([]);
  });

  it('sees an import that crosses the line', () => {
    // The check itself must be able to fail: the CLI starts both processes, so it imports both.
    expect(forbiddenImports('cli', PROCESSES).length).toBeGreaterThan(0);
  });
});

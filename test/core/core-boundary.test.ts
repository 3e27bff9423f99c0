import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, sources } from '../support/source-imports.js';

// src/core/ is what every adapter reasons through: it may import only itself and a few pure
// packages, never an adapter (timeline, metrics, kube, agent, …), so the rules stay testable
// without I/O and the same in replay and in the cluster.

const CORE = resolve(import.meta.dirname, '..', '..', 'src', 'core');
const PURE_PACKAGES = new Set(['zod', 'node:crypto', 'node:net']);

describe('src/core imports nothing but itself and pure packages', () => {
  const files = sources(CORE);

  it('finds the core sources', () => {
    expect(files.length).toBeGreaterThan(30);
  });

  it.each(files.map((f) => [relative(CORE, f), f]))('%s', (_name, file) => {
    const outside = importsOf(file).filter((spec) => {
      if (spec.startsWith('.')) return relative(CORE, resolve(dirname(file), spec)).startsWith('..');
      return !PURE_PACKAGES.has(spec);
    });
    expect(outside).toEqual([]);
  });
});

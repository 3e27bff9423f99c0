import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';

// The image's bundle keeps function names (esbuild's keepNames: readable stack traces), and for a
// named arrow function or function expression written inside a function (`const f = () => …`,
// `{ policyFor: (ns) => … }`) that means an Object.defineProperty each time the enclosing function
// runs: a slow call measured at 1–2 µs of CPU per review in the server. The webhook's review path
// writes such functions as methods, returned functions or module-level functions instead, which
// keepNames leaves alone.

const SRC = resolve(import.meta.dirname, '..', '..', 'src');
/** The modules whose functions run for a review: reading it, the handlers, the stamps and their answer. */
const REVIEW_PATH = [
  'http/plain-body.ts',
  ...['review-fast-path', 'review-answer', 'review-envelope', 'review', 'review-inputs', 'deadline', 'response', 'mutate', 'target', 'skipped-namespaces', 'owned-keys', 'patch', 'stamp-deployment', 'stamp-config', 'stamp-job', 'stamp-time', 'unstamped', 'validate'].map((m) => `admission/${m}.ts`),
  'stamps/eligibility.ts',
  'stamps/stamp-cache.ts',
  ...['annotations', 'canonical-json', 'template-hash', 'template-refs', 'template-since', 'changeset', 'deployment-diff', 'before-state', 'rollback-record', 'duration', 'ownership', 'migrations', 'blackout'].map((m) => `core/${m}.ts`),
];

/** Lines where keepNames names a function inside another (indented), not a class's own name. */
function namedInnerFunctions(file: string): string[] {
  const { code } = transformSync(readFileSync(resolve(SRC, file), 'utf8'), { loader: 'ts', keepNames: true, format: 'esm', target: 'node22' });
  return code
    .split('\n')
    .filter((line) => /^\s+.*__name\(/.test(line) && !line.includes('__name(this, '))
    .map((line) => `${file}: ${line.trim().slice(0, 120)}`);
}

describe('the review path makes no function per review that the bundle must name', () => {
  it('no module on it writes a named function inside another', () => {
    expect(REVIEW_PATH.flatMap(namedInnerFunctions)).toEqual([]);
  });
});

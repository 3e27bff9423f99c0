import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorsOf, readPage, REPO_ROOT } from './markdown.js';

// Where the code sends a reader to the docs (help texts, error messages, comments, the chart's values
// and notes, the examples), the page and anchor exist; and nothing points to a README section any
// more: the README is a short guide, the docs/ pages hold the reference.

const SCANNED = ['src', 'bin', 'charts', 'certs', 'examples', 'scripts'];
const TEXT = /\.(ts|js|json|ya?ml|txt|tpl|md)$/;
/** README files that are still the right place: a folder's own README, and the shared image recipe. */
const README_FILES = /(certs\/README\.md|\.\.\/shared\/oci\/README\.md)/g;

function files(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(REPO_ROOT, path)).isDirectory()) return files(path);
    return TEXT.test(name) && !/\.(log|om)$/.test(name) ? [path] : [];
  });
}

const sources = SCANNED.flatMap(files).map((path) => ({ path, text: readFileSync(join(REPO_ROOT, path), 'utf8') }));

describe('pointers from the code to the docs', () => {
  it('there are some, and each names a page and anchor that exist', () => {
    const pointers = sources.flatMap(({ path, text }) => [...text.matchAll(/docs\/([a-z-]+\.md)(?:#([a-z0-9-]+))?/g)].map((m) => ({ path, page: `docs/${m[1] ?? ''}`, anchor: m[2] })));
    expect(pointers.length).toBeGreaterThan(5);
    const broken = pointers.flatMap(({ path, page, anchor }) => {
      let text: string;
      try {
        text = readPage(page);
      } catch {
        return [`${path} points to ${page}, which does not exist`];
      }
      return anchor === undefined || anchorsOf(text).has(anchor) ? [] : [`${path} points to ${page}#${anchor}, which has no such anchor`];
    });
    expect(broken).toEqual([]);
  });

  it('none points to a README section', () => {
    const stale = sources.flatMap(({ path, text }) =>
      text
        .replace(README_FILES, '')
        .split('\n')
        .flatMap((line, i) => (/README/.test(line) && !path.endsWith('README.md') ? [`${path}:${String(i + 1)}: ${line.trim()}`] : [])),
    );
    expect(stale).toEqual([]);
  });
});

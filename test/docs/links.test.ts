import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorsOf, docPages, readPage, REPO_ROOT, repoRelative, withoutCode } from './markdown.js';

// Every relative link and #anchor in README.md and docs/*.md leads somewhere: a file of the
// repository, and, for a Markdown target, one of its headings (GitHub's slugs) or <a id> anchors.

interface Link {
  line: number;
  target: string;
}

function linksOf(text: string): Link[] {
  const links: Link[] = [];
  withoutCode(text)
    .split('\n')
    .forEach((line, i) => {
      // Inline code may show link syntax without being a link.
      const prose = line.replace(/`[^`]*`/g, '');
      for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) if (m[1] !== undefined) links.push({ line: i + 1, target: m[1] });
      for (const m of prose.matchAll(/<a\s[^>]*href="([^"]+)"/g)) if (m[1] !== undefined) links.push({ line: i + 1, target: m[1] });
    });
  return links;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

/** Why a link does not resolve, or undefined when it does. */
function problem(page: string, target: string): string | undefined {
  const [path = '', anchor] = target.split('#', 2);
  const file = path === '' ? join(REPO_ROOT, page) : normalize(join(dirname(join(REPO_ROOT, page)), decodeURIComponent(path)));
  if (!file.startsWith(REPO_ROOT)) return `${target} leaves the repository`;
  if (!existsSync(file)) return `${repoRelative(file)} does not exist`;
  if (anchor === undefined) return undefined;
  if (statSync(file).isDirectory() || !file.endsWith('.md')) return `#${anchor} on ${repoRelative(file)}, which is not a Markdown page`;
  const anchors = anchorsOf(readPage(repoRelative(file)));
  return anchors.has(anchor) ? undefined : `${repoRelative(file)} has no anchor #${anchor} (it has: ${[...anchors].join(', ')})`;
}

describe('docs links: every relative link and anchor in README.md and docs/ resolves', () => {
  it('finds links to check on every page', () => {
    for (const page of docPages()) expect(linksOf(readPage(page)).length, `${page} links nowhere`).toBeGreaterThan(0);
  });

  it.each(docPages())('%s', (page) => {
    const broken = linksOf(readPage(page))
      .filter((l) => !isExternal(l.target))
      .flatMap((l) => {
        const why = problem(page, l.target);
        return why === undefined ? [] : [`${page}:${String(l.line)}: (${l.target}): ${why}`];
      });
    expect(broken).toEqual([]);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

// Reading the docs as the tests check them: the pages, GitHub's heading anchors, a page's sections
// and table rows, and the shell blocks marked runnable.

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const DOCS_DIR = join(REPO_ROOT, 'docs');

/** README.md and every docs/*.md, as repository-relative paths. */
export function docPages(): string[] {
  return ['README.md', ...readdirSync(DOCS_DIR).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
}

export function readPage(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

export function repoRelative(absolute: string): string {
  return relative(REPO_ROOT, absolute);
}

/** The text with fenced code blocks blanked out (their lines kept, so line numbers still count). */
export function withoutCode(text: string): string {
  let inFence = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        inFence = !inFence;
        return '';
      }
      return inFence ? '' : line;
    })
    .join('\n');
}

/** GitHub's anchor for a heading: lower case, markup and punctuation dropped (not `-` or `_`), spaces to `-`. */
export function slug(heading: string): string {
  return heading
    .replace(/<[^>]+>/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a page offers: its headings (duplicates numbered -1, -2, as GitHub does) and `<a id>`/`<a name>`. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutCode(text).split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading?.[1] !== undefined) {
      const base = slug(heading[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${String(n)}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) if (m[1] !== undefined) anchors.add(m[1]);
  }
  return anchors;
}

/** The lines under the heading whose anchor is `anchor`, up to the next heading of the same or a higher level. */
export function section(text: string, anchor: string): string {
  const lines = text.split('\n');
  const code = withoutCode(text).split('\n');
  const start = code.findIndex((l) => /^#{1,6}\s/.test(l) && slug(l.replace(/^#+\s+/, '')) === anchor);
  if (start < 0) throw new Error(`no heading with the anchor #${anchor}`);
  const level = /^#+/.exec(code[start] ?? '')?.[0].length ?? 1;
  let end = start + 1;
  while (end < lines.length && !new RegExp(`^#{1,${String(level)}}\\s`).test(code[end] ?? '')) end++;
  return lines.slice(start, end).join('\n');
}

/** The first cell of every table row in `text`, without the surrounding spaces. */
export function firstCells(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .map((l) => (l.split('|')[1] ?? '').trim());
}

export interface RunnableBlock {
  page: string;
  line: number;
  script: string;
  /** The lines of the `<!-- output -->` block that follows, if any. */
  output?: string[];
}

/** Every fenced `sh` block preceded by `<!-- runnable -->`, with the `<!-- output -->` text block after it. */
export function runnableBlocks(page: string, text: string): RunnableBlock[] {
  const lines = text.split('\n');
  const blocks: RunnableBlock[] = [];
  const fenceAt = (from: number, lang: string): { body: string[]; end: number } | undefined => {
    let i = from;
    while (i < lines.length && lines[i]?.trim() === '') i++;
    if (lines[i]?.trim() !== `\`\`\`${lang}`) return undefined;
    const close = lines.findIndex((l, j) => j > i && l.trim() === '```');
    if (close < 0) throw new Error(`${page}:${String(i + 1)}: unclosed code block`);
    return { body: lines.slice(i + 1, close), end: close };
  };
  lines.forEach((line, i) => {
    if (line.trim() !== '<!-- runnable -->') return;
    const sh = fenceAt(i + 1, 'sh');
    if (sh === undefined) throw new Error(`${page}:${String(i + 1)}: <!-- runnable --> must be followed by a \`\`\`sh block`);
    const block: RunnableBlock = { page, line: i + 1, script: sh.body.join('\n') };
    let j = sh.end + 1;
    while (j < lines.length && lines[j]?.trim() === '') j++;
    if (lines[j]?.trim() === '<!-- output -->') {
      const out = fenceAt(j + 1, 'text');
      if (out === undefined) throw new Error(`${page}:${String(j + 1)}: <!-- output --> must be followed by a \`\`\`text block`);
      block.output = out.body;
    }
    blocks.push(block);
  });
  return blocks;
}

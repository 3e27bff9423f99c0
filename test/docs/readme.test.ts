import { describe, expect, it } from 'vitest';
import { docPages, readPage } from './markdown.js';

const readme = readPage('README.md');

describe('README first lines', () => {
  it('give the command that runs the main job and the one that runs the tests', () => {
    const head = readme.split('\n').slice(0, 14).join('\n');
    expect(head).toMatch(/npm ci && npm start/);
    expect(head).toMatch(/npm test/);
  });
});

describe('README is a guide, the docs/ pages hold the rest', () => {
  it('stays short (at most 260 lines)', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(260);
  });

  it('maps every docs/ page', () => {
    const pages = docPages().filter((p) => p.startsWith('docs/'));
    expect(pages.length).toBeGreaterThan(5);
    for (const page of pages) expect(readme, `README's map of docs/ does not link ${page}`).toContain(`](${page})`);
  });

  it.each(docPages().filter((p) => p.startsWith('docs/')))('%s starts with what the reader will have done at its end', (page) => {
    const [title, blank, first] = readPage(page).split('\n');
    expect(title).toMatch(/^# /);
    expect(blank).toBe('');
    expect(first).toMatch(/^At the end of this page you will /);
  });
});

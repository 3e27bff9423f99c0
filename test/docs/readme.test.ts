import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_ANNOTATIONS, PREFIX } from '../../src/core/annotations.js';
import { rbacTableRows } from '../../src/agent/rbac.js';
import { PRESETS } from '../../src/metrics/conventions.js';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

describe('R12 annotations are documented in one place', () => {
  it('every key is under rollguard.io/ and unique', () => {
    const keys = ALL_ANNOTATIONS.map((a) => a.key);
    for (const k of keys) expect(k.startsWith(PREFIX)).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.each(ALL_ANNOTATIONS.map((a) => [a.key, a] as const))('the README documents %s with its description', (_key, a) => {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${a.key}\` |`));
    expect(row, `README annotation table has no row for ${a.key}`).toBeDefined();
    expect(row).toContain(a.description);
  });
});

describe('README first lines', () => {
  it('give the command that runs the main job and the one that runs the tests', () => {
    const head = readme.split('\n').slice(0, 12).join('\n');
    expect(head).toMatch(/npm ci && npm start/);
    expect(head).toMatch(/npm test/);
  });
});

describe('R7 the README documents the agent’s RBAC verb by verb', () => {
  it.each(rbacTableRows())('has the row %s', (row) => {
    expect(readme.split('\n')).toContain(row);
  });
});

describe('R5 the README documents every metric preset with its labels and its server errors', () => {
  it.each(Object.entries(PRESETS))('the Metric conventions table has a row for %s', (name, c) => {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
    expect(row, `README has no Metric conventions row for ${name}`).toBeDefined();
    const extra = Object.entries(c.extraMatchers).map(([k, v]) => `{${k}="${v}"}`).join('');
    for (const text of [`\`${c.requests}${extra}\``, `\`${c.serviceLabel}\` / \`${c.namespaceLabel}\``, `\`${c.statusLabel}=~"${c.serverErrors.replaceAll('|', '\\|')}"\``, `\`${c.latencyBuckets}\``]) {
      expect(row).toContain(text);
    }
    expect(row).toContain(c.leUnitSeconds === 1 ? '(`le` in s)' : '(`le` in ms)');
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createMetrics } from '../../src/admission/metrics.js';
import { createAgentMetrics } from '../../src/agent/metrics.js';
import { rbacTableRows } from '../../src/agent/rbac.js';
import { ALL_ANNOTATIONS, PREFIX } from '../../src/core/annotations.js';
import { PRESETS } from '../../src/metrics/conventions.js';
import { firstCells, readPage, REPO_ROOT, section } from './markdown.js';
import { pino } from 'pino';
import { registryHealth } from '../../src/health/registry-health.js';

// The docs tables that describe something the code defines stay equal to the code: each row is
// looked up on the page (and section) where the reader finds it.

const rowsOf = (text: string) => text.split('\n');
const rowFor = (text: string, key: string) => rowsOf(text).find((line) => line.startsWith(`| \`${key}\` |`));

describe('R12 annotations are documented in one place (docs/reference.md#annotations)', () => {
  const table = section(readPage('docs/reference.md'), 'annotations');

  it('every key is under rollguard.io/ and unique', () => {
    const keys = ALL_ANNOTATIONS.map((a) => a.key);
    for (const k of keys) expect(k.startsWith(PREFIX)).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.each(ALL_ANNOTATIONS.map((a) => [a.key, a] as const))('documents %s with its description', (_key, a) => {
    const row = rowFor(table, a.key);
    expect(row, `docs/reference.md#annotations has no row for ${a.key}`).toBeDefined();
    expect(row).toContain(a.description);
  });

  it('documents no key the code does not define', () => {
    const keys = new Set(ALL_ANNOTATIONS.map((a) => a.key));
    const documented = firstCells(table).filter((c) => c.startsWith('`rollguard.io/')).map((c) => c.slice(1, -1));
    expect(documented.filter((k) => !keys.has(k))).toEqual([]);
  });
});

describe('R7 the agent’s RBAC is documented verb by verb (docs/install.md#rbac)', () => {
  const table = rowsOf(section(readPage('docs/install.md'), 'rbac'));
  it.each(rbacTableRows())('has the row %s', (row) => {
    expect(table).toContain(row);
  });
});

describe('R5 every metric preset is documented with its labels and its server errors (docs/metrics.md#presets)', () => {
  const table = section(readPage('docs/metrics.md'), 'presets');
  it.each(Object.entries(PRESETS))('the presets table has a row for %s', (name, c) => {
    const row = rowFor(table, name);
    expect(row, `docs/metrics.md#presets has no row for ${name}`).toBeDefined();
    const extra = Object.entries(c.extraMatchers).map(([k, v]) => `{${k}="${v}"}`).join('');
    for (const text of [`\`${c.requests}${extra}\``, `\`${c.serviceLabel}\` / \`${c.namespaceLabel}\``, `\`${c.statusLabel}=~"${c.serverErrors.replaceAll('|', '\\|')}"\``, `\`${c.latencyBuckets}\``]) {
      expect(row).toContain(text);
    }
    expect(row).toContain(c.leUnitSeconds === 1 ? '(`le` in s)' : '(`le` in ms)');
  });
});

describe('every metric rollguard exports is documented with its labels (docs/reference.md#metrics)', () => {
  const table = section(readPage('docs/reference.md'), 'metrics');
  const webhook = createMetrics();
  // The webhook's dependency metrics are registered on its registry once it has a cluster to probe.
  registryHealth({ registry: webhook.registry, prefix: 'rollguard_webhook', logger: pino({ level: 'silent' }), probes: {} });
  const exported = [...createAgentMetrics(() => []).registry.getMetricsAsArray(), ...webhook.registry.getMetricsAsArray()];

  it.each(exported.map((m) => [m.name, m] as const))('%s', (name, metric) => {
    const row = rowFor(table, name);
    expect(row, `docs/reference.md#metrics has no row for ${name}`).toBeDefined();
    const labels = (metric as unknown as { labelNames: string[] }).labelNames;
    for (const label of labels) expect(row, `the row for ${name} does not name its label ${label}`).toContain(`\`${label}\``);
  });

  it('documents no metric the code does not export', () => {
    const names = new Set(exported.map((m) => m.name));
    const documented = firstCells(table).filter((c) => c.startsWith('`rollguard_')).map((c) => c.slice(1, -1));
    expect(documented.filter((n) => !names.has(n))).toEqual([]);
  });
});

describe('the chart’s values are documented (docs/install.md#values-that-matter)', () => {
  it('the values table has a row for every value in values.yaml', () => {
    const rows = new Set(firstCells(section(readPage('docs/install.md'), 'values-that-matter')).flatMap((c) => /^`([^`]+)`$/.exec(c)?.slice(1) ?? []));
    expect(rows.size).toBeGreaterThan(20);
    const values = parseYaml(readFileSync(join(REPO_ROOT, 'charts', 'rollguard', 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const missing: string[] = [];
    const walk = (obj: Record<string, unknown>, prefix: string) => {
      for (const [k, v] of Object.entries(obj)) {
        const path = prefix === '' ? k : `${prefix}.${k}`;
        if (rows.has(path)) continue;
        if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0) walk(v as Record<string, unknown>, path);
        else missing.push(path);
      }
    };
    walk(values, '');
    expect(missing).toEqual([]);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { timelineFromAuditLog } from '../../src/replay/extract.js';

// F5: found by `npm run harden` (a million mutated audit lines): a Deployment patch whose
// requestURI is not a string made the replay throw ("requestURI?.split is not a function") and
// lose the whole log. Such a line is skipped as incomplete, counted, and the rest is read.

const dir = mkdtempSync(join(tmpdir(), 'rollguard-hostile-lines-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'replay', 'audit.log');

describe('F5 an audit line with a wrongly typed field is skipped with its reason, never fatal', () => {
  it.each([7, null, ['/apis'], { path: '/apis' }])('requestURI %j on a Deployment patch', async (value) => {
    const lines = readFileSync(EXAMPLE, 'utf8').split('\n').filter((l) => l !== '');
    const n = lines.findIndex((l) => l.includes('"verb":"patch"') && l.includes('"resource":"deployments"') && l.includes('"stage":"ResponseComplete"'));
    expect(n).toBeGreaterThanOrEqual(0);
    const hostile = { ...(JSON.parse(lines[n] ?? '') as Record<string, unknown>), requestURI: value };
    const file = join(dir, `audit-${String(n)}-${typeof value}.log`);
    writeFileSync(file, [...lines.slice(0, n), JSON.stringify(hostile), ...lines.slice(n + 1)].join('\n'));
    const intact = await timelineFromAuditLog([EXAMPLE]);
    const { stats } = await timelineFromAuditLog([file]);
    expect(stats.skipped.incomplete ?? 0).toBe((intact.stats.skipped.incomplete ?? 0) + 1);
    expect(stats.used).toBe(intact.stats.used - 1);
  });
});

describe('F5 an audit line nested 10,000 deep is read without exhausting the stack', () => {
  it.each(['{"a":', '['])('a Deployment patch body with %s nested 10,000 times', async (open) => {
    const lines = readFileSync(EXAMPLE, 'utf8').split('\n').filter((l) => l !== '');
    const n = lines.findIndex((l) => l.includes('"verb":"patch"') && l.includes('"resource":"deployments"') && l.includes('"stage":"ResponseComplete"') && l.includes('"requestObject":{'));
    expect(n).toBeGreaterThanOrEqual(0);
    const close = open === '[' ? ']' : '}';
    const deep = `${open.repeat(10_000)}1${close.repeat(10_000)}`;
    const file = join(dir, `deep-${String(open.length)}.log`);
    writeFileSync(file, lines.map((l, i) => (i === n ? l.replace('"requestObject":{', `"requestObject":{"deep":${deep},`) : l)).join('\n'));
    const intact = await timelineFromAuditLog([EXAMPLE]);
    const { stats } = await timelineFromAuditLog([file]);
    expect(stats.lines).toBe(intact.stats.lines);
    expect(stats.used + stats.irrelevant + Object.values(stats.skipped).reduce((a, b) => a + b, 0)).toBe(stats.lines);
  });
});

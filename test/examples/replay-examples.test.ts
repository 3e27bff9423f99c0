import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReplayExample } from '../../examples/replay/build.js';
import { FILES, writeReplayExample } from '../../examples/replay/generate.js';
import { evaluateAuditPolicy } from '../../src/core/audit-policy.js';
import { loadAuditPolicy } from '../../src/replay/audit-policy-file.js';
import type { AuditEvent } from '../../src/timeline/audit-event.js';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import { runCliAsync, type CliResult } from '../support/run-cli.js';

// The replay examples (examples/replay/): `npm start` replays them, and every deploy in them must
// get the verdict and the words expected.json states, from the OpenMetrics file and from a real
// Prometheus backfilled with the same samples. The generator must reproduce the committed files.

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'examples', 'replay');
const read = (file: string) => readFileSync(join(DIR, file), 'utf8');
const AUDIT_POLICY = 'audit-policy.yaml';

interface Expected {
  situation: string;
  namespace: string;
  deployment: string;
  deployStart: string;
  verdict: string;
  contains: string[];
}

interface Row {
  summary?: boolean;
  namespace: string;
  deployment: string;
  deployStart: string;
  verdict: string;
  onset: string | null;
  decidedAt: string;
}

const expected = (JSON.parse(read(FILES.expected)) as { deploys: Expected[] }).deploys;
const key = (r: { namespace: string; deployment: string; deployStart: string }) => `${r.namespace}/${r.deployment}@${r.deployStart}`;

/** `npm start`'s arguments, taken from package.json so the test runs what the README's first command runs. */
function startArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [tsx, main, ...args] = pkg.scripts.start.split(/\s+/);
  expect([tsx, main]).toEqual(['tsx', 'src/cli/main.ts']);
  return args;
}

function rows(out: CliResult): Map<string, { row: Row; line: string }> {
  expect(out.status, out.stderr).toBe(0);
  const map = new Map<string, { row: Row; line: string }>();
  for (const line of out.stdout.trim().split('\n')) {
    const row = JSON.parse(line) as Row;
    if (row.summary !== true) map.set(key(row), { row, line });
  }
  return map;
}

let text: CliResult;
let viaFile: Map<string, { row: Row; line: string }>;
let viaPrometheus: Map<string, { row: Row; line: string }>;
let prometheus: RunningPrometheus | undefined;
beforeAll(async () => {
  const args = startArgs();
  const metricsAt = args.indexOf('--metrics') + 1;
  prometheus = await startPrometheus(read(FILES.metrics));
  const withPrometheus = args.map((a, i) => (i === metricsAt ? prometheus?.url ?? a : a));
  let json: CliResult;
  let prom: CliResult;
  [text, json, prom] = await Promise.all([runCliAsync(args), runCliAsync([...args, '--output', 'json']), runCliAsync([...withPrometheus, '--output', 'json'])]);
  viaFile = rows(json);
  viaPrometheus = rows(prom);
}, 120_000);
afterAll(async () => {
  await prometheus?.stop();
});

function checkVerdicts(source: () => Map<string, { row: Row; line: string }>) {
  it('replays exactly the deploys expected.json lists', () => {
    expect([...source().keys()].sort()).toEqual(expected.map(key).sort());
  });

  it.each(expected.map((e) => [`${e.situation}: ${key(e)}`, e] as const))('%s', (_name, e) => {
    const found = source().get(key(e));
    expect(found, `no replayed deploy ${key(e)}`).toBeDefined();
    if (found === undefined) return;
    expect(found.row.verdict).toBe(e.verdict);
    for (const words of e.contains) expect(found.line).toContain(words);
  });
}

describe('R6 every deploy in the replay examples gets its stated verdict (OpenMetrics file)', () => {
  checkVerdicts(() => viaFile);
});

describe('R6 every deploy in the replay examples gets its stated verdict (real Prometheus backfilled from the same file)', () => {
  checkVerdicts(() => viaPrometheus);

  it('R5 gives the same onsets and decision times as the file', () => {
    const pick = (m: Map<string, { row: Row }>) => [...m.values()].map(({ row }) => ({ key: key(row), verdict: row.verdict, onset: row.onset, decidedAt: row.decidedAt }));
    expect(pick(viaPrometheus)).toEqual(pick(viaFile));
  });
});

describe('R6 npm start prints one table row per deploy with its verdict', () => {
  it('has a row with the verdict for every expected deploy, and the summary', () => {
    expect(text.status, text.stderr).toBe(0);
    for (const e of expected) {
      const verdict = e.verdict;
      const row = new RegExp(`^${e.namespace}/${e.deployment}( \\(rollback\\))?\\s+${e.deployStart}\\s+\\S+\\s+(\\S+)\\s+\\S+\\s+\\S+\\s+.*?\\s{2}(kubectl rollout undo \\S.*|argocd app \\S.*|-)$`, 'm').exec(text.stdout);
      expect(row?.[2], `row for ${key(e)}`).toBe(verdict);
      // Nothing to act on, or nothing to roll back to: no rollback command offered.
      if (verdict === 'none' || e.contains.includes('no previous revision')) expect(row?.[3]).toBe('-');
      // An Argo CD-owned Deployment gets Argo CD's way back (R13): a plain undo would be reverted.
      else expect(row?.[3]).toMatch(e.situation.includes('argocd') ? /^argocd app set \S+ --sync-policy none && argocd app rollback / : /^kubectl rollout undo deployment\//);
      // The rollback of storefront/web is marked as one.
      expect(row?.[1] !== undefined, `rollback mark on ${key(e)}`).toBe(e.situation.includes('(the rollback)'));
    }
    const count = (v: string) => expected.filter((e) => e.verdict === v).length;
    expect(text.stdout).toContain(`${expected.length} deploys: ${count('auto')} auto, ${count('suggest')} suggest, ${count('none')} none`);
  });
});

describe('F1 the example audit log is written as its audit policy says (npm start replays with --audit-policy)', () => {
  it('the record of every successful request has the level the policy gives it, and npm start reports the coverage from it', async () => {
    const args = startArgs();
    const file = args[args.indexOf('--audit-policy') + 1] ?? '';
    expect(file).toBe(`examples/replay/${AUDIT_POLICY}`);
    const policy = await loadAuditPolicy(join(ROOT, file));
    let checked = 0;
    for (const line of read(FILES.audit).split('\n')) {
      if (line.trim() === '') continue;
      const e = JSON.parse(line) as AuditEvent;
      // Failed requests are written at Metadata by the generator; replay never uses them.
      const code = e.responseStatus?.code ?? 0;
      if (e.objectRef?.resource === undefined || code < 200 || code > 299) continue;
      const r = e.objectRef;
      const d = evaluateAuditPolicy(policy, {
        namespace: r.namespace ?? '',
        group: r.apiGroup ?? '',
        resource: r.resource ?? '',
        subresource: r.subresource,
        verb: e.verb,
        name: r.name ?? '',
        user: e.user?.username ?? '',
        groups: e.user?.groups ?? ['system:authenticated'],
      });
      expect(d.level, `${e.verb} ${r.resource ?? ''}${r.subresource ? `/${r.subresource}` : ''} ${r.namespace ?? ''}/${r.name ?? ''}`).toBe(e.level);
      checked++;
    }
    expect(checked).toBeGreaterThan(2000);
    expect(text.stdout).toContain(`coverage: from the audit policy ${file}: every Deployment, ConfigMap, Secret and Job write is logged in all 12 namespace(s) with deploys`);
  });
});

describe('the replay example generator is deterministic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rollguard-replay-example-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes byte-identical files to the committed ones', async () => {
    await writeReplayExample(dir);
    for (const file of Object.values(FILES)) expect(readFileSync(join(dir, file)).equals(readFileSync(join(DIR, file))), `${file} differs from examples/replay/${file}: run npm run examples:generate`).toBe(true);
  });

  it('gives the same bytes on every build, and different traffic for another seed', () => {
    const a = buildReplayExample();
    expect(buildReplayExample()).toEqual(a);
    expect(buildReplayExample(7).metrics).not.toBe(a.metrics);
  });

  it('keeps the files small', () => {
    for (const file of [FILES.audit, FILES.metrics]) expect(readFileSync(join(DIR, file)).length).toBeLessThan(4_000_000);
  });
});

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/timeline/audit-event.js';
import { at, toLog } from '../fixtures/audit/builders.js';
import { checkoutIncident, cleanDeploy, PLANTED_SECRET } from '../fixtures/audit/scenario.js';
import { generateSeries } from '../support/metric-scenarios.js';
import { startPrometheus, toOpenMetrics, type RunningPrometheus } from '../support/prometheus.js';
import { runCliAsync, type CliResult } from '../support/run-cli.js';

// End to end: `rollguard replay` over an audit log (gzip + plain rotated files) and an OpenMetrics
// file. shop/checkout regresses after a deploy that follows a migration Job (suggest), pay/api
// regresses after a clean image change (auto), pay/web deploys cleanly with no regression (none).

const dir = mkdtempSync(join(tmpdir(), 'rollguard-replay-cli-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const STEP = 30_000;
function series(namespace: string, service: string, regressAt: number | undefined, seed: number) {
  return generateSeries({
    seed,
    namespace,
    service,
    stepMs: STEP,
    start: at(-60),
    end: at(40),
    rate: () => 40,
    errorShare: (t) => (regressAt !== undefined && t >= regressAt ? 0.09 : 0.003),
    latencyMedian: () => 0.08,
  });
}

const auditEvents: AuditEvent[] = [...checkoutIncident(), ...cleanDeploy('pay', 'api', 1), ...cleanDeploy('pay', 'web', 2)].sort((a, b) => Date.parse(a.stageTimestamp) - Date.parse(b.stageTimestamp));
const half = Math.floor(auditEvents.length / 2);
const older = join(dir, 'audit-2026-03-02T10-00-00.000.log.gz');
const current = join(dir, 'audit.log');
const metrics = join(dir, 'metrics.om');
const reports = join(dir, 'reports');
writeFileSync(older, gzipSync(Buffer.from(toLog(auditEvents.slice(0, half)))));
writeFileSync(current, toLog(auditEvents.slice(half)) + '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"cut-off-by-rot');
const openMetrics = toOpenMetrics([series('shop', 'checkout', at(3), 1), series('pay', 'api', at(3), 2), series('pay', 'web', undefined, 3)]);
writeFileSync(metrics, openMetrics);

let text: CliResult;
let json: CliResult;
let viaPrometheus: CliResult;
let prometheus: RunningPrometheus | undefined;
beforeAll(async () => {
  prometheus = await startPrometheus(openMetrics);
  [text, json, viaPrometheus] = await Promise.all([
    runCliAsync(['replay', '--audit', current, older, '--metrics', metrics, '--report', reports]),
    runCliAsync(['replay', '--audit', older, current, '--metrics', metrics, '--output', 'json']),
    runCliAsync(['replay', '--audit', older, current, '--metrics', prometheus.url, '--output', 'json']),
  ]);
}, 180_000);
afterAll(async () => {
  await prometheus?.stop();
});

const verdictOf = (out: string, name: string) => new RegExp(`^${name}\\s+\\S+\\s+\\S+\\s+(auto|suggest|none)`, 'm').exec(out)?.[1];

describe('R6 replay gives each deploy the verdict rollguard would have given', () => {
  it('prints a row per deploy and the summary', () => {
    expect(text.status, text.stderr).toBe(0);
    expect(verdictOf(text.stdout, 'shop/checkout')).toBe('suggest');
    expect(verdictOf(text.stdout, 'pay/api')).toBe('auto');
    expect(verdictOf(text.stdout, 'pay/web')).toBe('none');
    expect(text.stdout).toContain('3 deploys: 1 auto, 1 suggest, 1 none');
    expect(text.stdout).toContain('kubectl rollout undo deployment/api -n pay --to-revision=4');
    expect(text.stdout).toMatch(/lines skipped: .*not valid JSON/);
  });

  it('R4 names the migration Job for shop/checkout', () => {
    const line = json.stdout.split('\n').find((l) => l.includes('"deployment":"checkout"')) ?? '';
    const row = JSON.parse(line) as { conditions: { migration: { status: string; evidence: string } } };
    expect(row.conditions.migration.status).toBe('unmet');
    expect(row.conditions.migration.evidence).toContain('db-migrate-42');
  });

  it('json: one object per deploy with the documented keys, then the summary', () => {
    expect(json.status, json.stderr).toBe(0);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(4);
    for (const row of lines.slice(0, 3)) {
      for (const key of ['namespace', 'deployment', 'deployStart', 'deployComplete', 'verdict', 'conditions', 'confidence', 'command']) expect(row).toHaveProperty(key);
      expect(Object.keys(row.conditions as object)).toEqual(expect.arrayContaining(['window', 'sameService', 'podSpecOnly', 'migration', 'cleanSignal', 'ownership', 'blackout', 'revision']));
    }
    const api = lines.find((l) => l.deployment === 'api');
    expect(api).toMatchObject({ namespace: 'pay', verdict: 'auto', deployStart: '2026-03-02T10:01:00Z' });
    expect(lines[3]).toMatchObject({ summary: true, deploys: 3, auto: 1, suggest: 1, none: 1 });
  });

  it('decides without hindsight: at detection, before the end of the window', () => {
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { deployment?: string; decidedAt?: string; detectedAt?: string | null });
    const api = lines.find((l) => l.deployment === 'api');
    expect(api?.detectedAt).toBe(api?.decidedAt);
    expect(Date.parse(api?.decidedAt ?? '')).toBeLessThan(at(10));
    expect(lines.find((l) => l.deployment === 'web')?.detectedAt).toBeNull();
  });
});

describe('R5 both metric adapters give the same replay', () => {
  it('a real Prometheus over the same samples gives the same verdicts, onsets and decision times', () => {
    expect(viaPrometheus.status, viaPrometheus.stderr).toBe(0);
    const pick = (out: string) =>
      out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.summary !== true).map(({ deployment, verdict, onset, decidedAt, detectedAt }) => ({ deployment, verdict, onset, decidedAt, detectedAt }));
    expect(pick(viaPrometheus.stdout)).toEqual(pick(json.stdout));
    expect(pick(viaPrometheus.stdout).map((r) => r.verdict)).toEqual(['suggest', 'auto', 'none']);
  });
});

describe('R9 replay --report writes a page per deploy with a regression', () => {
  it('writes checkout and api, not web', () => {
    expect(readdirSync(reports).sort()).toEqual(['index.html', 'pay_api_2026-03-02T100100Z.html', 'shop_checkout_2026-03-02T100000Z.html']);
    const page = readFileSync(join(reports, 'shop_checkout_2026-03-02T100000Z.html'), 'utf8');
    expect(page).toContain('SUGGEST');
    expect(page).toContain('Job db-migrate-42');
  });
});

describe('R9 replay --report writes index.html linking every report, and prints its path and a count', () => {
  it('index.html links each report once, by its file name, with its verdict', () => {
    const index = readFileSync(join(reports, 'index.html'), 'utf8');
    const links = [...index.matchAll(/<a href="([^"]+)">([^<]+)<\/a>/g)].map((m) => [m[1], m[2]]);
    expect(links.sort()).toEqual([
      ['pay_api_2026-03-02T100100Z.html', 'pay/api'],
      ['shop_checkout_2026-03-02T100000Z.html', 'shop/checkout'],
    ]);
    expect(index).toContain('<h1>2 reports</h1>');
    expect(index).toMatch(/shop\/checkout<\/a><\/td><td>2026-03-02T10:00:00Z<\/td><td><span class="verdict verdict-suggest">suggest/);
  });

  it('the text summary names the index and the count, not every report path', () => {
    const line = text.stdout.split('\n').find((l) => l.startsWith('reports: '));
    expect(line).toBe(`reports: 2 written; open ${join(reports, 'index.html')}`);
    expect(text.stdout).not.toContain('shop_checkout_2026-03-02T100000Z.html');
  });
});

describe('F3 the planted Secret value appears nowhere in the output or reports', () => {
  it('is in the audit log, and in none of stdout, stderr or the pages', () => {
    const needles = [PLANTED_SECRET, Buffer.from(PLANTED_SECRET).toString('base64')];
    const log = toLog(auditEvents);
    for (const n of needles) expect(log).toContain(n);
    const outputs = [text.stdout, text.stderr, json.stdout, json.stderr, ...readdirSync(reports).map((f) => readFileSync(join(reports, f), 'utf8'))];
    for (const out of outputs) for (const n of needles) expect(out).not.toContain(n);
  });
});

describe('F5 bad replay input gets a clear answer', () => {
  it.each([
    [['--audit', join(dir, 'missing.log'), '--metrics', metrics], /cannot read the audit log .*missing\.log/],
    [['--audit', current, '--metrics', join(dir, 'missing.om')], /cannot read the OpenMetrics file/],
    [['--audit', current, '--metrics', metrics, '--from', 'last tuesday'], /--from "last tuesday" is not a time/],
  ])('%j', async (args, message) => {
    const r = await runCliAsync(['replay', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('R5 metric labels that match nothing are named, in text and JSON', () => {
  it('R5: a policy whose metrics.serviceLabel the metrics lack: each row says so and the summary names the selectors', async () => {
    const policy = join(dir, 'mislabelled.yaml');
    writeFileSync(policy, 'default:\n  metrics:\n    serviceLabel: app\n');
    const [asText, asJson] = await Promise.all([
      runCliAsync(['replay', '--audit', older, current, '--metrics', metrics, '--policy', policy]),
      runCliAsync(['replay', '--audit', older, current, '--metrics', metrics, '--policy', policy, '--output', 'json']),
    ]);
    expect(asText.status, asText.stderr).toBe(0);
    expect(asText.stdout).toMatch(/^pay\/api .* none .*metrics matched nothing/m);
    expect(asText.stdout).toContain('metrics: the selector matched nothing for 3 service(s); their deploys have no signal (not "no regression"):');
    expect(asText.stdout).toContain(
      '  pay/api: no series matched http_requests_total{namespace="pay",app="api"}; the file has http_requests_total with labels code, namespace, service; no app label: set metrics.serviceLabel: service (the metric label naming the service), or use metrics.queries',
    );
    const lines = asJson.stdout.trim().split('\n').map((l) => JSON.parse(l) as { deployment?: string; conditions?: { cleanSignal: { evidence: string } }; unmatchedMetrics?: { namespace: string; service: string }[] });
    expect(lines.find((l) => l.deployment === 'api')?.conditions?.cleanSignal.evidence).toMatch(/^no series matched http_requests_total\{namespace="pay",app="api"\}; the file has/);
    expect(lines.at(-1)?.unmatchedMetrics?.map((u) => `${u.namespace}/${u.service}`).sort()).toEqual(['pay/api', 'pay/web', 'shop/checkout']);
  }, 60_000);
});

describe('R5 replay honours each namespace policy\'s metric labels', () => {
  it('R5: a namespace policy\'s metrics.serviceLabel applies to that namespace only', async () => {
    const policy = join(dir, 'pay-labels.yaml');
    writeFileSync(policy, 'default: {}\nnamespaces:\n  pay:\n    metrics:\n      serviceLabel: app\n');
    const r = await runCliAsync(['replay', '--audit', older, current, '--metrics', metrics, '--policy', policy, '--output', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { deployment?: string; verdict?: string; unmatchedMetrics?: { namespace: string; service: string; selector: string }[] });
    expect(lines.at(-1)?.unmatchedMetrics?.map((u) => u.selector)).toEqual(['http_requests_total{namespace="pay",app="api"}', 'http_requests_total{namespace="pay",app="web"}']);
    expect(lines.find((l) => l.deployment === 'checkout')?.verdict).toBe('suggest');
  }, 60_000);
});

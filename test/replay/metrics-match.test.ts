import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import type { Policy } from '../../src/core/policy.js';
import { OpenMetricsFileSource } from '../../src/metrics/openmetrics-file.js';
import { replayDecisions } from '../../src/replay/decisions.js';
import { summaryJson, summaryText, unmatchedServices } from '../../src/replay/output.js';
import { GUESSED_COVERAGE_NOTE } from '../../src/replay/coverage.js';
import type { ReplayedDeploy, ReplayDecisionOptions } from '../../src/replay/decisions.js';
import type { AuditReadStats } from '../../src/replay/audit-reader.js';
import type { AuditEvent } from '../../src/timeline/audit-event.js';
import { at, auditEvent, timelineOf } from '../fixtures/audit/builders.js';
import { cleanDeploy } from '../fixtures/audit/scenario.js';
import { generateSeries } from '../support/metric-scenarios.js';
import { toOpenMetrics } from '../support/prometheus.js';
import { relabel } from '../support/relabel.js';

// Replay when the policy's metric labels and the metrics disagree (R5, F1): a selector that matched
// nothing is named in the evidence and the summary instead of reading as "no regression"; metrics
// without a namespace label match on the service label alone, unless that service name is deployed
// in several namespaces, when the signal is unknown.

/** pay/api regresses three minutes after its deploy at minute 1. */
const regressing = (namespace = 'pay', seed = 7) =>
  generateSeries({ seed, namespace, service: 'api', stepMs: 30_000, start: at(-60), end: at(60), rate: () => 40, errorShare: (t) => (t >= at(3) ? 0.09 : 0.003) });

const JOBS_RECORDED = auditEvent({ verb: 'list', resource: 'jobs', namespace: 'pay', at: at(-30), level: 'Metadata', auditID: 'jobs-list', user: 'system:serviceaccount:kube-system:cronjob-controller' });

async function replay(events: AuditEvent[], om: string, policy: Policy = DEFAULT_POLICY): Promise<ReplayedDeploy[]> {
  const sorted = [JOBS_RECORDED, ...events].sort((a, b) => Date.parse(a.stageTimestamp) - Date.parse(b.stageTimestamp));
  const options: ReplayDecisionOptions = { policyFor: () => policy, source: new OpenMetricsFileSource(om, policy.metrics) };
  return replayDecisions(timelineOf(sorted), options);
}

const stats: AuditReadStats = { lines: 10, used: 8, irrelevant: 2, skipped: {}, files: [] };
const summaryOf = (rows: ReplayedDeploy[]) => ({ deploys: rows.length, verdicts: { auto: 0, suggest: 0, none: rows.length }, stats, reports: [], unmatched: unmatchedServices(rows), coverage: { source: 'guessed' as const, note: GUESSED_COVERAGE_NOTE } });

describe('R5 a metric label that does not match is never silent', () => {
  const om = toOpenMetrics([relabel(regressing(), { service: 'app' })]);

  it('R5: the cleanSignal evidence names the selector that matched nothing and what the file has', async () => {
    const [r] = await replay(cleanDeploy('pay', 'api', 1), om);
    expect(r?.decision.verdict).toBe('none');
    expect(r?.decision.conditions.cleanSignal).toEqual({
      status: 'unknown',
      evidence:
        'no series matched http_requests_total{namespace="pay",service="api"}; the file has http_requests_total with labels app, code, namespace; ' +
        'no service label: set metrics.serviceLabel: app (the metric label naming the service), or use metrics.queries: not a regression, and not a clean signal',
    });
  });

  it('R5: the summary lists each unmatched (namespace, service) once, in text and JSON', async () => {
    const rows = await replay([...cleanDeploy('pay', 'api', 1), ...cleanDeploy('pay', 'web', 2)], om);
    expect(rows).toHaveLength(2);
    // A service deployed again is listed once.
    expect(unmatchedServices([...rows, ...rows]).map((u) => `${u.namespace}/${u.service}`)).toEqual(['pay/api', 'pay/web']);
    const text = summaryText(summaryOf(rows)).split('\n');
    expect(text.filter((l) => l.includes('no series matched'))).toEqual([
      '  pay/api: no series matched http_requests_total{namespace="pay",service="api"}; the file has http_requests_total with labels app, code, namespace; no service label: set metrics.serviceLabel: app (the metric label naming the service), or use metrics.queries',
      '  pay/web: no series matched http_requests_total{namespace="pay",service="web"}; the file has http_requests_total with labels app, code, namespace; no service label: set metrics.serviceLabel: app (the metric label naming the service), or use metrics.queries',
    ]);
    expect(text).toContain('metrics: the selector matched nothing for 2 service(s); their deploys have no signal (not "no regression"):');
    const json = JSON.parse(summaryJson(summaryOf(rows))) as { unmatchedMetrics: unknown[] };
    expect(json.unmatchedMetrics).toEqual(['api', 'web'].map((service) => ({
      namespace: 'pay',
      service,
      selector: `http_requests_total{namespace="pay",service="${service}"}`,
      evidence: expect.stringMatching(/^no series matched .*labels app, code, namespace; no service label/) as unknown,
    })));
  });

  it('R5: with metrics.serviceLabel set to the metric label, the same file gives the regression (auto)', async () => {
    const policy: Policy = { ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, serviceLabel: 'app' } };
    const [r] = await replay(cleanDeploy('pay', 'api', 1), om, policy);
    expect(r?.decision.conditions.cleanSignal.status).toBe('met');
    expect(r?.decision.verdict).toBe('auto');
    expect(unmatchedServices(r ? [r] : [])).toEqual([]);
    expect(summaryText(summaryOf(r ? [r] : []))).not.toMatch(/matched nothing/);
  });
});

describe('R5 F1 metrics without a namespace label', () => {
  const om = toOpenMetrics([relabel(regressing(), { namespace: undefined })]);

  it('R5: a metric with no namespace label at all matches on the service label alone, and the evidence says so', async () => {
    const [r] = await replay(cleanDeploy('pay', 'api', 1), om);
    expect(r?.match).toMatchObject({ kind: 'service-only', selector: 'http_requests_total{service="api"}', deployedIn: ['pay'] });
    expect(r?.decision.conditions.cleanSignal.status).toBe('met');
    expect(r?.decision.conditions.cleanSignal.evidence).toMatch(/\(matched on service only: http_requests_total has no namespace label\)$/);
    expect(r?.decision.verdict).toBe('auto');
  });

  it('R5: an empty metrics.namespaceLabel matches on the service label alone too', async () => {
    const policy: Policy = { ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, namespaceLabel: '' } };
    const [r] = await replay(cleanDeploy('pay', 'api', 1), om, policy);
    expect(r?.decision.conditions.cleanSignal.evidence).toMatch(/matched on service only: the policy's metrics\.namespaceLabel is empty/);
    expect(r?.decision.verdict).toBe('auto');
  });

  it('F1: the same service name deployed in two namespaces makes the signal unknown, never auto', async () => {
    const rows = await replay([...cleanDeploy('pay', 'api', 1), ...cleanDeploy('shop', 'api', 2)], om);
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.match?.deployedIn).toEqual(['pay', 'shop']);
      expect(r.decision.conditions.cleanSignal.status).toBe('unknown');
      expect(r.decision.conditions.cleanSignal.evidence).toMatch(/matched on service only: http_requests_total has no namespace label, but a service api is deployed in namespaces pay, shop/);
      expect(r.decision.verdict).not.toBe('auto');
    }
  });

  it('F1: with the namespace label present, two namespaces of the same service are told apart (auto)', async () => {
    const both = toOpenMetrics([regressing('pay'), regressing('shop', 8)]);
    const rows = await replay([...cleanDeploy('pay', 'api', 1), ...cleanDeploy('shop', 'api', 2)], both);
    expect(rows.map((r) => [r.match, r.decision.verdict])).toEqual([
      [undefined, 'auto'],
      [undefined, 'auto'],
    ]);
  });
});

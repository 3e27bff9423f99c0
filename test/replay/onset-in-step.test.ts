import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import type { Policy } from '../../src/core/policy.js';
import { OpenMetricsFileSource } from '../../src/metrics/openmetrics-file.js';
import type { MetricSource } from '../../src/metrics/source.js';
import { replayDecisions } from '../../src/replay/decisions.js';
import type { AuditEvent } from '../../src/timeline/audit-event.js';
import { at, auditEvent, timelineOf } from '../fixtures/audit/builders.js';
import { cleanDeploy } from '../fixtures/audit/scenario.js';
import { generateSeries, step } from '../support/metric-scenarios.js';
import { toOpenMetrics } from '../support/prometheus.js';

// Issue 15's replay: the most common bad deploy fails within seconds of the deploy start, inside
// the deploy's own 15 s scrape interval. Replay reads the scrapes around the deploy start and acts.

const SECOND = 1000;
const policy: Policy = { ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, stepMs: 15 * SECOND } };
/** The Job controller's periodic list, at Metadata level: the log records Jobs. */
const JOBS_RECORDED = auditEvent({ verb: 'list', resource: 'jobs', namespace: 'pay', at: at(-30), level: 'Metadata', auditID: 'jobs-list', user: 'system:serviceaccount:kube-system:cronjob-controller' });

/** Scrapes every 15 s at 60 req/s, the 5xx share stepping from 0.2% to 12% at `onset`. */
function fileSource(onset: number): OpenMetricsFileSource {
  const series = generateSeries({ seed: 15, namespace: 'pay', service: 'api', stepMs: 15 * SECOND, start: at(-60), end: at(30), rate: () => 60, errorShare: step(onset, 0.002, 0.12) });
  return new OpenMetricsFileSource(toOpenMetrics([series]), policy.metrics);
}

async function replay(deployAt: number, source: MetricSource) {
  const events: AuditEvent[] = [JOBS_RECORDED, ...cleanDeploy('pay', 'api', deployAt / 60_000)].sort((a, b) => Date.parse(a.stageTimestamp) - Date.parse(b.stageTimestamp));
  const [r] = await replayDecisions(timelineOf(events), { policyFor: () => policy, source });
  if (!r) throw new Error('no deploy replayed');
  return r;
}

describe('R1 an onset inside the deploy start\'s own scrape interval', () => {
  const minute = 60_000;

  it('R1 deploy admitted at :05, 5xx from :11 at 12%, 60 req/s, 15 s scrapes: R1 met, auto', async () => {
    const r = await replay(minute + 5 * SECOND, fileSource(at(1) + 11 * SECOND));
    expect(r.decision.conditions.window.status, r.decision.conditions.window.evidence).toBe('met');
    expect(r.decision.conditions.window.evidence).toMatch(/^5xx began inside the scrape interval 2026-03-02T10:01:00Z–2026-03-02T10:01:15Z that holds the deploy start \(2026-03-02T10:01:05Z\): .*so it follows the deploy \(p = /);
    expect(r.decision.verdict).toBe('auto');
  });

  it('F1 R1 at the first detection the few scrapes after the deploy cannot yet rule out noise (the baseline has too few errors to show it): replay, like the agent, evaluates on and decides once they can', async () => {
    const r = await replay(minute + 5 * SECOND, fileSource(at(1) + 11 * SECOND));
    expect(r.detectedAt).toBeDefined();
    expect(r.decidedAt).toBeGreaterThan(r.detectedAt ?? Infinity);
    expect(r.decidedAt - (r.detectedAt ?? 0)).toBeLessThanOrEqual(3 * minute);
    expect(r.decision.verdict).toBe('auto');
  });

  it('R1 F1 the same scrapes read on the grid alone (a source without raw samples): unknown, suggest', async () => {
    const file = fileSource(at(1) + 11 * SECOND);
    const gridOnly: MetricSource = { rangeQuery: (q) => file.rangeQuery(q), listServices: (...a) => file.listServices(...a) };
    const r = await replay(minute + 5 * SECOND, gridOnly);
    expect(r.decision.conditions.window.status).toBe('unknown');
    expect(r.decision.conditions.window.evidence).toContain('too close to the deploy start');
    expect(r.decision.verdict).toBe('suggest');
  });

  it('F1 5xx from :02, deploy at :12 in the same interval: never met, never auto', async () => {
    const r = await replay(minute + 12 * SECOND, fileSource(at(1) + 2 * SECOND));
    expect(r.decision.conditions.window.status).toBe('unmet');
    expect(r.decision.conditions.window.evidence).toContain('predates the deploy');
    expect(r.decision.verdict).not.toBe('auto');
  });
});

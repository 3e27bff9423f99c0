import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import type { Policy } from '../../src/core/policy.js';
import { detectFromSource } from '../../src/metrics/detect.js';
import { OpenMetricsFileSource } from '../../src/metrics/openmetrics-file.js';
import { PrometheusSource } from '../../src/metrics/prometheus.js';
import type { MetricSource } from '../../src/metrics/source.js';
import { generateSeries, step } from '../support/metric-scenarios.js';
import { startPrometheus, toOpenMetrics } from '../support/prometheus.js';
import type { RunningPrometheus } from '../support/prometheus.js';

// R1 through a real Prometheus: the scrapes fall 7 s after the detector's 15 s grid points, the
// deploy lands inside one and the 5xx share rises 6 s after it. Only the raw samples show the
// scrape interval that holds the deploy start; detection must read them and place the onset. The
// baseline holds two errors a scrape, too few to show the scrapes' noise, so the scrapes after the
// deploy must show it: evaluated five minutes on, as the agent's later evaluations are.

const S = 1000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const DEPLOY = T0 + 40 * MIN + 10 * S;
const NOW = DEPLOY + 5 * MIN;
const policy: Policy = { ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, stepMs: 15 * S } };
const series = generateSeries({
  seed: 16,
  namespace: 'shop',
  service: 'checkout',
  stepMs: 15 * S,
  start: T0 + 7 * S,
  end: NOW + MIN,
  rate: () => 60,
  errorShare: step(DEPLOY + 6 * S, 0.002, 0.12),
  latencyMedian: () => 0.05,
});
const text = toOpenMetrics([series]);
let running: RunningPrometheus | undefined;

beforeAll(async () => {
  running = await startPrometheus(text);
}, 120_000);

afterAll(async () => {
  await running?.stop();
});

function prometheus(): PrometheusSource {
  if (!running) throw new Error('Prometheus did not start');
  return new PrometheusSource({ url: running.url, metrics: policy.metrics });
}

const request = { namespace: 'shop', service: 'checkout', deployStart: DEPLOY, now: NOW, policy };

describe('R1 the scrapes around the deploy start, read from a real Prometheus', () => {
  it('raw samples come back at their own timestamps, the same as the file holds', async () => {
    const q = { namespace: 'shop', service: 'checkout', start: DEPLOY - 2 * MIN, end: DEPLOY + 2 * MIN, stepMs: 15 * S };
    const fromPrometheus = await prometheus().scrapedSamples(q);
    const fromFile = await new OpenMetricsFileSource(text, policy.metrics).scrapedSamples(q);
    const timestamps = fromPrometheus.requests.flatMap((s) => s.samples.map(([ts]) => ts));
    expect(timestamps.length).toBe(2 * 16);
    expect(new Set(timestamps.map((ts) => ts % (15 * S)))).toEqual(new Set([7 * S]));
    const byCode = (r: typeof fromFile): Record<string, unknown> => Object.fromEntries(r.requests.map((s) => [s.labels.code ?? '', s.samples] as const));
    expect(byCode(fromPrometheus)).toEqual(byCode(fromFile));
  });

  it('R1 detection places the onset in the scrape interval that holds the deploy start: after it', async () => {
    const { regression } = await detectFromSource(prometheus(), request);
    expect(regression.signal).toBe('error-rate');
    expect(regression.onsetInStep?.verdict, regression.onsetInStep?.evidence).toBe('after');
    // The interval is the scrapes' own (…:07–…:22), not a grid step (…:00–…:15).
    expect(regression.onsetInStep?.evidence).toContain('scrape interval 2026-03-02T09:40:07Z–2026-03-02T09:40:22Z that holds the deploy start (2026-03-02T09:40:10Z)');
  });

  it('R1 the file source reaches the same placement from the same scrapes', async () => {
    const [viaPrometheus, viaFile] = await Promise.all([detectFromSource(prometheus(), request), detectFromSource(new OpenMetricsFileSource(text, policy.metrics), request)]);
    expect(viaFile.regression.onsetInStep).toEqual(viaPrometheus.regression.onsetInStep);
  });

  it('F1 a source without raw samples leaves the onset on the grid: no placement', async () => {
    const p = prometheus();
    const gridOnly: MetricSource = { rangeQuery: (q) => p.rangeQuery(q), listServices: (...a) => p.listServices(...a) };
    const { regression } = await detectFromSource(gridOnly, request);
    expect(regression.signal).toBe('error-rate');
    expect(regression.onsetInStep).toBeUndefined();
  });

  it('a policy query that is not a plain selector cannot be read raw: invalid-query, which detection takes as no scrapes', async () => {
    const custom: Policy = {
      ...policy,
      metrics: { ...policy.metrics, queries: { requests: 'sum by (code) (http_requests_total{namespace="shop",service="$service"})' } },
    };
    const p = new PrometheusSource({ url: running?.url ?? '', metrics: custom.metrics });
    await expect(p.scrapedSamples({ namespace: 'shop', service: 'checkout', start: DEPLOY - MIN, end: DEPLOY + MIN, stepMs: 15 * S })).rejects.toMatchObject({ kind: 'invalid-query' });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, METRICS_PRESETS } from '../../src/core/policy.js';
import type { MetricsPreset, Policy } from '../../src/core/policy.js';
import { detectionGrid, detectRegression } from '../../src/core/regression.js';
import { alignSeries, querySpan } from '../../src/core/regression-series.js';
import type { RawServiceSeries } from '../../src/core/regression-series.js';
import { PRESETS } from '../../src/metrics/conventions.js';
import { detectFromSource } from '../../src/metrics/detect.js';
import { OpenMetricsFileSource } from '../../src/metrics/openmetrics-file.js';
import { PrometheusSource } from '../../src/metrics/prometheus.js';
import { MetricSourceError } from '../../src/metrics/source.js';
import type { MetricSource } from '../../src/metrics/source.js';
import { generateSeries, step } from '../support/metric-scenarios.js';
import { startPrometheus, toOpenMetrics } from '../support/prometheus.js';
import type { RunningPrometheus } from '../support/prometheus.js';
import { relabel } from '../support/relabel.js';

// Integration against a real Prometheus (Debian's package): the same generated scrapes are
// backfilled into its TSDB and written to an OpenMetrics file; both sources must read the same
// counts and the detector must reach the same verdict through either.

const STEP = 30_000;
const MIN = 60_000;
const START = Date.UTC(2026, 2, 2, 9, 0, 0);
const DEPLOY = START + 40 * MIN + 13_000;
const ONSET = DEPLOY + 2 * MIN + 10_000;
const END = DEPLOY + 15 * MIN;
const NOW = DEPLOY + 12 * MIN;

const policyFor = (preset: MetricsPreset): Policy => ({ ...DEFAULT_POLICY, metrics: { ...DEFAULT_POLICY.metrics, preset, stepMs: STEP } });

function scenario(): RawServiceSeries[] {
  const common = { stepMs: STEP, start: START, end: END, latencyMedian: () => 0.05 };
  return [
    // The deployed service: 5xx share 0.5% → 8% two minutes after the deploy; a pod restart
    // (counter reset) after the onset and two missed scrapes before the deploy.
    generateSeries({
      ...common,
      seed: 11,
      service: 'checkout',
      rate: () => 20,
      errorShare: step(ONSET, 0.005, 0.08),
      resets: [DEPLOY + 6 * MIN],
      gaps: [[DEPLOY - 10 * MIN, DEPLOY - 9 * MIN]],
    }),
    generateSeries({ ...common, seed: 12, service: 'cart', rate: () => 10, errorShare: () => 0.004 }),
    withClientErrors(generateSeries({ ...common, seed: 13, service: 'payments', rate: () => 5, errorShare: () => 0.01 })),
  ];
}

/**
 * payments also answers 404 (NotFound in gRPC) to 15% of a further 5 req/s from the onset on: a
 * client-side failure, which no preset counts as a server error.
 */
function withClientErrors(s: RawServiceSeries): RawServiceSeries {
  const more = generateSeries({ stepMs: STEP, start: START, end: END, seed: 14, service: 'payments', rate: () => 5, errorShare: step(ONSET, 0.005, 0.15) });
  const notFound = more.errors.map((e) => ({ ...e, labels: { ...e.labels, code: '404' } }));
  return { ...s, requests: [...s.requests, ...notFound] };
}

const presets: readonly MetricsPreset[] = METRICS_PRESETS;
const series = scenario();
const running = new Map<MetricsPreset, RunningPrometheus>();
/** The same scrapes without a namespace label, as many exporters write them. */
const namespaceless = toOpenMetrics(series.map((s) => relabel(s, { namespace: undefined })));
let withoutNamespace: RunningPrometheus | undefined;

beforeAll(async () => {
  // One Prometheus per preset, each over the same scrapes under that preset's names.
  for (const preset of presets) running.set(preset, await startPrometheus(toOpenMetrics(series, preset)));
  withoutNamespace = await startPrometheus(namespaceless);
}, 150_000);

afterAll(async () => {
  for (const p of running.values()) await p.stop();
  await withoutNamespace?.stop();
});

function prometheus(preset: MetricsPreset, policy = policyFor(preset)): PrometheusSource {
  const p = running.get(preset);
  if (!p) throw new Error(`no Prometheus for ${preset}`);
  return new PrometheusSource({ url: p.url, metrics: policy.metrics });
}

const file = (preset: MetricsPreset) => new OpenMetricsFileSource(toOpenMetrics(series, preset), policyFor(preset).metrics);

async function aligned(source: MetricSource, service: string, policy: Policy) {
  const grid = detectionGrid(DEPLOY, NOW, policy);
  const raw = await source.rangeQuery({ namespace: 'shop', service, ...querySpan(grid) });
  return { raw, aligned: alignSeries(raw, grid) };
}

describe.each(presets)('R5 both sources read the same counts (%s preset)', (preset) => {
  it.each(['checkout', 'cart'])('%s: identical per-interval requests, 5xx and latency buckets', async (service) => {
    const policy = policyFor(preset);
    const fromProm = await aligned(prometheus(preset), service, policy);
    const fromFile = await aligned(file(preset), service, policy);
    expect(fromProm.aligned.intervals.length).toBeGreaterThan(60);
    expect(fromProm.aligned).toEqual(fromFile.aligned);
    // The missed scrapes are a gap in both, not zero-traffic intervals.
    const ends = fromProm.aligned.intervals.map((iv) => iv.end);
    if (service === 'checkout') expect(ends).not.toContain(Math.ceil((DEPLOY - 10 * MIN) / STEP) * STEP + STEP);
    expect(fromProm.aligned.bounds.at(-1)).toBe(Infinity);
    expect(fromProm.aligned.bounds[0]).toBeCloseTo(0.005, 9);
  });

  it('the detector reaches the same regression through Prometheus and through the file', async () => {
    const policy = policyFor(preset);
    const viaProm = detectRegression({ series: (await aligned(prometheus(preset), 'checkout', policy)).raw, deployStart: DEPLOY, now: NOW, policy });
    const viaFile = detectRegression({ series: (await aligned(file(preset), 'checkout', policy)).raw, deployStart: DEPLOY, now: NOW, policy });
    expect(viaProm).toEqual(viaFile);
    expect(viaProm.signal).toBe('error-rate');
    expect(viaProm.data).toBe('ok');
    expect(Math.abs((viaProm.onset ?? 0) - ONSET)).toBeLessThanOrEqual(STEP);
  });
});

describe.each(presets)("R5 the %s preset's notion of a server error, the same through both sources", (preset) => {
  it('a rise of client errors (404, gRPC NotFound) is no server error and no regression; the server errors are counted the same', async () => {
    const policy = policyFor(preset);
    const fromProm = await aligned(prometheus(preset), 'payments', policy);
    const fromFile = await aligned(file(preset), 'payments', policy);
    expect(fromProm.aligned).toEqual(fromFile.aligned);
    // Three status series: the success, the server error and the client error.
    expect(fromProm.raw.requests).toHaveLength(3);
    expect(fromProm.raw.errors.map((e) => e.labels[PRESETS[preset].statusLabel])).toEqual([preset === 'grpc' ? 'Unavailable' : '500']);
    const errors = fromProm.aligned.intervals.reduce((n, iv) => n + iv.errors, 0);
    const requests = fromProm.aligned.intervals.reduce((n, iv) => n + iv.requests, 0);
    expect(errors / requests).toBeLessThan(0.02);
    const r = detectRegression({ series: fromProm.raw, deployStart: DEPLOY, now: NOW, policy });
    expect(r.data).toBe('ok');
    expect(r.signal).toBeUndefined();
  });

  it("a selector that matches nothing: the no-match evidence names the preset's labels, the same from both sources", async () => {
    const policy = policyFor(preset);
    const c = PRESETS[preset];
    const viaProm = (await aligned(prometheus(preset), 'no-such-service', policy)).raw.match;
    const viaFile = (await aligned(file(preset), 'no-such-service', policy)).raw.match;
    const extra = Object.entries(c.extraMatchers).map(([k, v]) => `,${k}="${v}"`).join('');
    expect(viaProm).toMatchObject({ kind: 'none', selector: `${c.requests}{${c.namespaceLabel}="shop",${c.serviceLabel}="no-such-service"${extra}}` });
    expect(viaProm?.holds?.labels).toEqual(expect.arrayContaining([c.namespaceLabel, c.serviceLabel, c.statusLabel]));
    expect(viaProm?.hint).toBe(`no series has ${c.namespaceLabel}="shop",${c.serviceLabel}="no-such-service": check the service name (the Deployment label the top-level serviceLabel names), metrics.namespaceLabel, or use metrics.queries`);
    expect({ ...viaProm, source: 'the file' }).toEqual(viaFile);
  });
});

describe.each(presets.filter((p) => p !== 'default'))('R5 %s metrics read under the default preset', (preset) => {
  it('the hint names the preset the source holds the request counter of', async () => {
    const policy = policyFor('default');
    const { raw } = await aligned(prometheus(preset, policy), 'checkout', policy);
    expect(raw.match).toMatchObject({ kind: 'none', holds: { labels: undefined } });
    expect(raw.match?.holds?.nearest).toContain(PRESETS[preset].requests);
    expect(raw.match?.hint).toBe(`set metrics.preset: ${preset}`);
  });
});

describe('R2 neighbours through Prometheus', () => {
  it('lists the namespace services and says checkout regressed, not cart', async () => {
    const source = prometheus('default');
    expect(await source.listServices('shop', START, END)).toEqual(['cart', 'checkout', 'payments']);
    expect(await source.listServices('elsewhere', START, END)).toEqual([]);
    const result = await detectFromSource(source, { namespace: 'shop', service: 'cart', deployStart: DEPLOY, now: NOW, policy: policyFor('default') });
    expect(result.regression.service).toBe('cart');
    expect(result.regression.signal).toBeUndefined();
    expect(result.neighbours.map((n) => [n.service, n.signal])).toEqual([
      ['checkout', 'error-rate'],
      ['payments', undefined],
    ]);
  });

  it('a policy list of neighbours replaces the namespace listing', async () => {
    const policy: Policy = { ...policyFor('default'), metrics: { ...policyFor('default').metrics, neighbours: ['payments'] } };
    const result = await detectFromSource(prometheus('default', policy), { namespace: 'shop', service: 'checkout', deployStart: DEPLOY, now: NOW, policy });
    expect(result.regression.signal).toBe('error-rate');
    expect(result.neighbours.map((n) => n.service)).toEqual(['payments']);
  });
});

describe('R5 Prometheus errors are told apart', () => {
  it('no data: an unknown service yields empty series and a no-data verdict, never a regression', async () => {
    const policy = policyFor('default');
    const { raw } = await aligned(prometheus('default'), 'no-such-service', policy);
    expect(raw.requests).toEqual([]);
    const r = detectRegression({ series: raw, deployStart: DEPLOY, now: NOW, policy });
    expect(r).toMatchObject({ data: 'no-data', signal: undefined, onset: undefined });
  });

  it('invalid query: a malformed PromQL override is reported as such, with Prometheus\' reason', async () => {
    const policy: Policy = { ...policyFor('default'), metrics: { ...policyFor('default').metrics, queries: { errors: 'http_requests_total{code=~"5..",' } } };
    const err = await aligned(prometheus('default', policy), 'checkout', policy).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetricSourceError);
    expect(err).toMatchObject({ kind: 'invalid-query' });
    expect((err as Error).message).toMatch(/Prometheus rejected the query http_requests_total\{code=~"5..",/);
  });

  it('an override that is not a selector is rejected with what is expected', async () => {
    const policy: Policy = { ...policyFor('default'), metrics: { ...policyFor('default').metrics, queries: { requests: 'sum(rate(http_requests_total[5m]))' } } };
    const err = await aligned(prometheus('default', policy), 'checkout', policy).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'invalid-query' });
    expect((err as Error).message).toMatch(/series selectors of cumulative counters/);
  });

  it('a valid override with $service substituted reads the same data as the preset', async () => {
    const policy: Policy = {
      ...policyFor('default'),
      metrics: { ...policyFor('default').metrics, queries: { errors: 'http_requests_total{service="$service",code=~"5.."}' } },
    };
    const viaOverride = await aligned(prometheus('default', policy), 'checkout', policy);
    const viaPreset = await aligned(prometheus('default'), 'checkout', policyFor('default'));
    expect(viaOverride.aligned).toEqual(viaPreset.aligned);
  });
});

describe('R5 a real Prometheus explains a selector that matched nothing', () => {
  const withMetrics = (metrics: Partial<Policy['metrics']>): Policy => ({ ...policyFor('default'), metrics: { ...policyFor('default').metrics, ...metrics } });

  it('R5: a service label the metric does not have: the labels Prometheus holds, the same as the file says', async () => {
    const policy = withMetrics({ serviceLabel: 'app' });
    const viaProm = (await aligned(prometheus('default', policy), 'checkout', policy)).raw;
    const viaFile = (await aligned(new OpenMetricsFileSource(toOpenMetrics(series), policy.metrics), 'checkout', policy)).raw;
    expect(viaProm.requests).toEqual([]);
    expect(viaProm.match).toMatchObject({
      kind: 'none',
      source: 'Prometheus',
      selector: 'http_requests_total{namespace="shop",app="checkout"}',
      holds: { labels: ['code', 'namespace', 'service'] },
      hint: 'no app label: set metrics.serviceLabel: service (the metric label naming the service), or use metrics.queries',
    });
    expect({ ...viaProm.match, source: 'the file' }).toEqual(viaFile.match);
    const r = detectRegression({ series: viaProm, deployStart: DEPLOY, now: NOW, policy });
    expect(r.data).toBe('no-data');
    expect(r.match?.kind).toBe('none');
  });

  it('R5: a metric Prometheus does not hold: the nearest names it does, and the preset they belong to', async () => {
    const policy = policyFor('ingress-nginx');
    const { raw } = await aligned(prometheus('default', policy), 'checkout', policy);
    expect(raw.match?.holds).toEqual({ labels: undefined, nearest: ['http_requests_total'] });
    expect(raw.match?.hint).toBe('set metrics.preset: default');
  });

  it('R5: metrics without any namespace label match on the service label alone: the same counts as the file', async () => {
    const policy = policyFor('default');
    const source = new PrometheusSource({ url: withoutNamespace?.url ?? '', metrics: policy.metrics });
    const fromProm = await aligned(source, 'checkout', policy);
    const fromFile = await aligned(new OpenMetricsFileSource(namespaceless, policy.metrics), 'checkout', policy);
    expect(fromProm.raw.match).toMatchObject({ kind: 'service-only', selector: 'http_requests_total{service="checkout"}' });
    expect(fromProm.aligned.intervals.length).toBeGreaterThan(60);
    expect(fromProm.aligned).toEqual(fromFile.aligned);
    expect(await source.listServices('shop', START, END)).toEqual(['cart', 'checkout', 'payments']);
    const r = detectRegression({ series: fromProm.raw, deployStart: DEPLOY, now: NOW, policy });
    expect(r.signal).toBe('error-rate');
    expect(r.match?.kind).toBe('service-only');
  });

  it('R5: an empty metrics.namespaceLabel leaves the namespace out of the query from the start', async () => {
    const policy = withMetrics({ namespaceLabel: '' });
    const source = new PrometheusSource({ url: withoutNamespace?.url ?? '', metrics: policy.metrics });
    const { raw } = await aligned(source, 'checkout', policy);
    expect(raw.requests.length).toBeGreaterThan(0);
    expect(raw.match).toMatchObject({ kind: 'service-only', namespaceLabel: '' });
  });
});

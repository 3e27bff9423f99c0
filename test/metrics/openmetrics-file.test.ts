import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import type { MetricsPreset, Policy } from '../../src/core/policy.js';
import { detectRegression, requiredPersistence } from '../../src/core/regression.js';
import { detectFromSource, firstDetectionFromSource } from '../../src/metrics/detect.js';
import { OpenMetricsFileSource } from '../../src/metrics/openmetrics-file.js';
import { formatOpenMetrics, parseOpenMetrics } from '../../src/metrics/openmetrics-format.js';
import type { Sample } from '../../src/metrics/openmetrics-format.js';
import { MetricSourceError } from '../../src/metrics/source.js';

// The OpenMetrics file source, the embedded default for local runs: the text format promtool
// backfills, the preset conventions read natively, and clear errors for files it cannot use.

const fixture = fileURLToPath(new URL('../fixtures/metrics/shop-checkout-regression.om', import.meta.url));
const DEPLOY = Date.UTC(2026, 2, 2, 10, 0, 13);
const metrics = (preset: MetricsPreset = 'default'): Policy['metrics'] => ({ ...DEFAULT_POLICY.metrics, preset });
const T = 1_772_443_500; // seconds

describe('R5 OpenMetrics text', () => {
  it('parses names, escaped labels, special values, timestamps (s → ms) and ignores exemplars', () => {
    const text = [
      '# HELP http_requests Requests.',
      '# TYPE http_requests counter',
      `http_requests_total{service="a\\"b\\\\c",code="200"} 12 ${T}`,
      `http_requests_total{service="x",code="500"} 1.5e3 ${T}.25 # {trace_id="abc"} 1 ${T}`,
      `http_request_duration_seconds_bucket{le="+Inf"} +Inf ${T}`,
      '# EOF',
    ].join('\n');
    expect(parseOpenMetrics(text)).toEqual([
      { name: 'http_requests_total', labels: { service: 'a"b\\c', code: '200' }, value: 12, timestamp: T * 1000 },
      { name: 'http_requests_total', labels: { service: 'x', code: '500' }, value: 1500, timestamp: T * 1000 + 250 },
      { name: 'http_request_duration_seconds_bucket', labels: { le: '+Inf' }, value: Infinity, timestamp: T * 1000 },
    ]);
  });

  it('formats what it parses', () => {
    const samples: Sample[] = [
      { name: 'x_total', labels: { a: 'q"uote\nnl' }, value: 3, timestamp: 1_000_500 },
      { name: 'x_total', labels: {}, value: Infinity, timestamp: 2_000_000 },
    ];
    const text = formatOpenMetrics([{ name: 'x', type: 'counter', help: 'X.', samples }]);
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(parseOpenMetrics(text)).toEqual(samples);
  });

  it.each([
    ['a sample without a timestamp', 'up 1\n# EOF', /line 1: sample up has no timestamp/],
    ['a value that is not a number', `up one ${T}`, /line 1: expected a sample value after up, got "one"/],
    ['an unterminated label value', `up{job="x} 1 ${T}`, /line 1: unterminated value of label job/],
    ['a duplicate label', `up{a="1",a="2"} 1 ${T}`, /duplicate label a/],
    ['an extra field', `up 1 ${T} 7`, /expected "value timestamp" after up/],
    ['content after # EOF', `# EOF\nup 1 ${T}`, /line 2: content after "# EOF"/],
    ['a line that is not a sample', `{a="1"} 1 ${T}`, /line 1: expected a metric name/],
  ])('rejects %s, naming the line', (_name, text, message) => {
    expect(() => parseOpenMetrics(text)).toThrow(message);
  });
});

const line = (name: string, labels: Record<string, string>, value: number, t: number) =>
  `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}} ${value} ${t}`;

describe('R5 the file source reads the preset conventions natively', () => {
  it('default: selects by namespace and service; 5xx by code', async () => {
    const text = [
      line('http_requests_total', { namespace: 'shop', service: 'checkout', code: '200' }, 10, T),
      line('http_requests_total', { namespace: 'shop', service: 'checkout', code: '503' }, 2, T),
      line('http_requests_total', { namespace: 'shop', service: 'checkout', code: '404' }, 4, T),
      line('http_requests_total', { namespace: 'shop', service: 'cart', code: '500' }, 9, T),
      line('http_requests_total', { namespace: 'other', service: 'checkout', code: '500' }, 9, T),
      line('http_request_duration_seconds_bucket', { namespace: 'shop', service: 'checkout', le: '0.5' }, 7, T),
      '# EOF',
    ].join('\n');
    const raw = await new OpenMetricsFileSource(text, metrics()).rangeQuery({ namespace: 'shop', service: 'checkout', start: T * 1000, end: T * 1000 + 60_000, stepMs: 30_000 });
    expect(raw.requests.map((s) => s.labels.code)).toEqual(['200', '503', '404']);
    expect(raw.errors.map((s) => s.labels.code)).toEqual(['503']);
    expect(raw.latency.map((s) => s.le)).toEqual([0.5]);
  });

  it('istio: destination labels, reporter="destination" only, le in milliseconds', async () => {
    const base = { destination_service_namespace: 'shop', destination_service_name: 'checkout' };
    const text = [
      line('istio_requests_total', { ...base, reporter: 'destination', response_code: '500' }, 3, T),
      line('istio_requests_total', { ...base, reporter: 'source', response_code: '500' }, 3, T),
      line('istio_request_duration_milliseconds_bucket', { ...base, reporter: 'destination', le: '250' }, 3, T),
    ].join('\n');
    const raw = await new OpenMetricsFileSource(text, metrics('istio')).rangeQuery({ namespace: 'shop', service: 'checkout', start: T * 1000, end: T * 1000, stepMs: 30_000 });
    expect(raw.errors).toHaveLength(1);
    expect(raw.requests).toHaveLength(1);
    expect(raw.latency[0]?.le).toBeCloseTo(0.25, 12);
  });

  it('ingress-nginx: the status label', async () => {
    const text = line('nginx_ingress_controller_requests', { namespace: 'shop', service: 'checkout', status: '502' }, 3, T);
    const raw = await new OpenMetricsFileSource(text, metrics('ingress-nginx')).rangeQuery({ namespace: 'shop', service: 'checkout', start: T * 1000, end: T * 1000, stepMs: 30_000 });
    expect(raw.errors).toHaveLength(1);
  });

  it('returns the samples a Prometheus range query on the same grid would: (start − step, end]', async () => {
    const text = [0, 30, 60, 90, 120].map((s) => line('http_requests_total', { namespace: 'shop', service: 'checkout', code: '200' }, s, T + s)).join('\n');
    const raw = await new OpenMetricsFileSource(text, metrics()).rangeQuery({ namespace: 'shop', service: 'checkout', start: (T + 60) * 1000, end: (T + 90) * 1000, stepMs: 30_000 });
    expect(raw.requests[0]?.samples.map(([t]) => t / 1000 - T)).toEqual([60, 90]);
  });

  it('lists the services of a namespace that had traffic in the range', async () => {
    const text = [
      line('http_requests_total', { namespace: 'shop', service: 'checkout', code: '200' }, 1, T),
      line('http_requests_total', { namespace: 'shop', service: 'cart', code: '200' }, 1, T + 600),
      line('http_requests_total', { namespace: 'other', service: 'search', code: '200' }, 1, T),
    ].join('\n');
    const source = new OpenMetricsFileSource(text, metrics());
    expect(await source.listServices('shop', T * 1000, (T + 900) * 1000)).toEqual(['cart', 'checkout']);
    expect(await source.listServices('shop', T * 1000, (T + 60) * 1000)).toEqual(['checkout']);
  });
});

describe('R5 the file source refuses what it cannot do, clearly', () => {
  it('PromQL overrides need Prometheus', () => {
    const overridden = { ...metrics(), queries: { errors: 'http_requests_total{code=~"5.."}' } };
    expect(() => new OpenMetricsFileSource('# EOF', overridden)).toThrow(MetricSourceError);
    expect(() => new OpenMetricsFileSource('# EOF', overridden)).toThrow(/metrics\.queries\.errors with PromQL; use a Prometheus source/);
  });

  it('a malformed file names the file and the line', async () => {
    await expect(OpenMetricsFileSource.fromFile('/nonexistent/metrics.om', metrics())).rejects.toMatchObject({ kind: 'bad-file' });
    expect(() => new OpenMetricsFileSource('up 1', metrics(), 'incident.om')).toThrow(/incident\.om: line 1: sample up has no timestamp/);
  });
});

describe('R5 R2 the shipped fixture, end to end through the file source', () => {
  it('checkout regressed three minutes after the deploy; cart did not', async () => {
    const source = await OpenMetricsFileSource.fromFile(fixture, metrics());
    const policy = DEFAULT_POLICY;
    const result = await detectFromSource(source, { namespace: 'shop', service: 'checkout', deployStart: DEPLOY, now: DEPLOY + 12 * 60_000, policy });
    expect(result.regression).toMatchObject({ service: 'checkout', signal: 'error-rate', data: 'ok' });
    expect(Math.abs((result.regression.onset ?? 0) - (DEPLOY + 3 * 60_000 + 7_000))).toBeLessThanOrEqual(30_000);
    expect(result.neighbours.map((n) => [n.service, n.signal])).toEqual([['cart', undefined]]);
    // As of one minute after the deploy nothing had happened yet.
    const early = await detectFromSource(source, { namespace: 'shop', service: 'checkout', deployStart: DEPLOY, now: DEPLOY + 60_000, policy });
    expect(early.regression.signal).toBeUndefined();
    // Replay's question: when did it become detectable, and what did the neighbours look like then?
    const first = await firstDetectionFromSource(source, { namespace: 'shop', service: 'checkout', deployStart: DEPLOY, until: DEPLOY + 14 * 60_000, policy });
    expect(first.at).toBeGreaterThan(DEPLOY + 3 * 60_000 + 7_000);
    expect(first.at).toBeLessThan(DEPLOY + 10 * 60_000);
    expect(first.regression.signal).toBe('error-rate');
    expect(first.regression.errorRate?.persisted).toBe(requiredPersistence(policy));
    expect(first.neighbours.map((n) => n.service)).toEqual(['cart']);
    const cart = await firstDetectionFromSource(source, { namespace: 'shop', service: 'cart', deployStart: DEPLOY, until: DEPLOY + 14 * 60_000, policy });
    expect(cart.at).toBeUndefined();
    expect(cart.regression.signal).toBeUndefined();
    expect(cart.neighbours.map((n) => [n.service, n.signal])).toEqual([['checkout', 'error-rate']]);
    const raw = await source.rangeQuery({ namespace: 'shop', service: 'nobody', start: DEPLOY, end: DEPLOY + 60_000, stepMs: 30_000 });
    expect(detectRegression({ series: raw, deployStart: DEPLOY, now: DEPLOY + 60_000, policy }).data).toBe('no-data');
  });
});

describe('R5 the file source says how the selector matched', () => {
  const span = { start: T * 1000, end: T * 1000 + 60_000, stepMs: 30_000 };
  const q = { namespace: 'shop', service: 'checkout', ...span };

  it('R5: exact when every label matched; no extra diagnostic', async () => {
    const text = line('http_requests_total', { namespace: 'shop', service: 'checkout', code: '200' }, 1, T);
    const raw = await new OpenMetricsFileSource(text, metrics()).rangeQuery(q);
    expect(raw.match).toEqual({ kind: 'exact', selector: 'http_requests_total{namespace="shop",service="checkout"}', source: 'the file', metric: 'http_requests_total', namespaceLabel: 'namespace' });
  });

  it('R5: a selector that matched nothing names the labels the file has for the metric (in the span)', async () => {
    const text = [
      line('http_requests_total', { kubernetes_namespace: 'shop', app: 'checkout', code: '200' }, 1, T),
      line('http_requests_total', { instance: 'x', code: '200' }, 1, T - 86_400),
    ].join('\n');
    const raw = await new OpenMetricsFileSource(text, metrics()).rangeQuery(q);
    expect(raw.requests).toEqual([]);
    expect(raw.match).toMatchObject({ kind: 'none', holds: { labels: ['app', 'code', 'kubernetes_namespace'] } });
    expect(raw.match?.hint).toMatch(/^no service label: set metrics\.serviceLabel to the one of app, kubernetes_namespace that names it/);
  });

  it('R5: the service label exists but has no series for this service: check the name', async () => {
    const text = line('http_requests_total', { namespace: 'shop', service: 'cart', code: '200' }, 1, T);
    const raw = await new OpenMetricsFileSource(text, metrics()).rangeQuery(q);
    expect(raw.match?.hint).toMatch(/^no series has namespace="shop",service="checkout": check the service name/);
  });

  it('R5: an absent metric: the nearest metric names, the counters of other presets first', async () => {
    const text = [
      line('http_request_total', { namespace: 'shop', service: 'checkout', code: '200' }, 1, T),
      line('nginx_ingress_controller_requests', { namespace: 'shop', service: 'checkout', status: '200' }, 1, T),
      line('process_cpu_seconds_total', {}, 1, T),
    ].join('\n');
    const raw = await new OpenMetricsFileSource(text, metrics()).rangeQuery(q);
    expect(raw.match?.holds).toEqual({ labels: undefined, nearest: ['nginx_ingress_controller_requests', 'http_request_total'] });
    expect(raw.match?.hint).toBe('set metrics.preset: ingress-nginx');
  });

  it('R5: a metric with no namespace label at all matches on the service label alone', async () => {
    const text = [
      line('http_requests_total', { service: 'checkout', code: '200' }, 10, T),
      line('http_requests_total', { service: 'checkout', code: '500' }, 2, T),
      line('http_requests_total', { service: 'cart', code: '500' }, 2, T),
      line('http_request_duration_seconds_bucket', { service: 'checkout', le: '0.5' }, 7, T),
    ].join('\n');
    const source = new OpenMetricsFileSource(text, metrics());
    const raw = await source.rangeQuery(q);
    expect(raw.requests.map((s) => s.labels.code)).toEqual(['200', '500']);
    expect(raw.errors).toHaveLength(1);
    expect(raw.latency).toHaveLength(1);
    expect(raw.match).toMatchObject({ kind: 'service-only', selector: 'http_requests_total{service="checkout"}' });
    expect(await source.listServices('shop', T * 1000, T * 1000)).toEqual(['cart', 'checkout']);
  });

  it('R5: a namespace label that exists keeps the selector exact: another namespace\'s series are not taken', async () => {
    const text = [line('http_requests_total', { namespace: 'other', service: 'checkout', code: '500' }, 2, T)].join('\n');
    const source = new OpenMetricsFileSource(text, metrics());
    expect((await source.rangeQuery(q)).match?.kind).toBe('none');
    expect(await source.listServices('shop', T * 1000, T * 1000)).toEqual([]);
  });

  it('R5: metrics.serviceLabel, .namespaceLabel and .statusLabel replace the preset\'s labels', async () => {
    const text = [
      line('http_requests_total', { kubernetes_namespace: 'shop', app: 'checkout', status: '200' }, 10, T),
      line('http_requests_total', { kubernetes_namespace: 'shop', app: 'checkout', status: '503' }, 2, T),
      line('http_requests_total', { kubernetes_namespace: 'other', app: 'checkout', status: '503' }, 2, T),
    ].join('\n');
    const labelled = { ...metrics(), serviceLabel: 'app', namespaceLabel: 'kubernetes_namespace', statusLabel: 'status' };
    const source = new OpenMetricsFileSource(text, labelled);
    const raw = await source.rangeQuery(q);
    expect(raw.requests).toHaveLength(2);
    expect(raw.errors.map((s) => s.labels.status)).toEqual(['503']);
    expect(raw.match).toMatchObject({ kind: 'exact', selector: 'http_requests_total{kubernetes_namespace="shop",app="checkout"}' });
    expect(await source.listServices('shop', T * 1000, T * 1000)).toEqual(['checkout']);
    const everywhere = await new OpenMetricsFileSource(text, { ...labelled, namespaceLabel: '' }).rangeQuery(q);
    expect(everywhere.requests).toHaveLength(3);
    expect(everywhere.match).toMatchObject({ kind: 'service-only', namespaceLabel: '' });
  });
});

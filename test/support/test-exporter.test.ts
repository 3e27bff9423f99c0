import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetQueries, PRESETS } from '../../src/metrics/conventions.js';
import { startTestExporter, TrafficModel } from './test-exporter.js';
import type { TestExporter } from './test-exporter.js';

// The steerable scrape target: counters integrate the set rate between scrapes, under the metric
// and label names of rollguard's presets, in a format promtool accepts.

const run = promisify(execFile);

/** value of one exposition line whose series text is exactly `series`. */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function fakeClock(start = 1_000_000) {
  let now = start;
  return { clock: () => now, tick: (ms: number) => (now += ms) };
}

describe('TrafficModel', () => {
  it('gives each pod of a service its own series under the preset\'s pod label', () => {
    const t = fakeClock();
    const m = new TrafficModel({ clock: t.clock });
    m.set('shop', 'checkout', { rps: 10, errorShare: 0.5 }, 'checkout-7d9f5c8b6-klmno');
    m.set('shop', 'checkout', { rps: 10, errorShare: 0 }, 'checkout-6c8b9f7d4-abcde');
    m.render();
    t.tick(1000);
    const body = m.render();
    const series = (pod: string, code: string) => `http_requests_total{namespace="shop",service="checkout",pod="${pod}",code="${code}"}`;
    expect(sample(body, series('checkout-7d9f5c8b6-klmno', '500'))).toBeCloseTo(5, 9);
    expect(sample(body, series('checkout-6c8b9f7d4-abcde', '500'))).toBe(0);
    expect(sample(body, series('checkout-6c8b9f7d4-abcde', '200'))).toBeCloseTo(10, 9);
    expect(m.get('shop', 'checkout', 'checkout-7d9f5c8b6-klmno')?.errorShare).toBe(0.5);
    expect(m.get('shop', 'checkout')).toBeUndefined();
    // ingress-nginx's series name the controller's pod, not the serving one: no pod label there.
    const nginx = new TrafficModel({ clock: t.clock, preset: 'ingress-nginx' });
    nginx.set('shop', 'checkout', { rps: 1 }, 'checkout-7d9f5c8b6-klmno');
    expect(nginx.render()).not.toContain('pod=');
  });

  const checkout = (code: string) => `http_requests_total{namespace="shop",service="checkout",code="${code}"}`;
  const bucket = (le: string) => `http_request_duration_seconds_bucket{namespace="shop",service="checkout",le="${le}"}`;

  it('advances the counters by rate × elapsed time, splitting 5xx by the share', () => {
    const t = fakeClock();
    const m = new TrafficModel({ clock: t.clock });
    m.set('shop', 'checkout', { rps: 10, errorShare: 0.1, latencySeconds: 0.05 });
    const first = m.render();
    expect(sample(first, checkout('200'))).toBe(0);
    expect(sample(first, checkout('500'))).toBe(0);
    t.tick(2000);
    const body = m.render();
    expect(sample(body, checkout('200'))).toBeCloseTo(18, 9);
    expect(sample(body, checkout('500'))).toBeCloseTo(2, 9);
    expect(sample(body, bucket('0.025'))).toBe(0);
    expect(sample(body, bucket('0.05'))).toBeCloseTo(20, 9);
    expect(sample(body, bucket('+Inf'))).toBeCloseTo(20, 9);
    expect(sample(body, 'http_request_duration_seconds_count{namespace="shop",service="checkout"}')).toBeCloseTo(20, 9);
    expect(sample(body, 'http_request_duration_seconds_sum{namespace="shop",service="checkout"}')).toBeCloseTo(1, 9);
    // The same instant again adds nothing: the body depends on scrape times only.
    expect(m.render()).toBe(body);
  });

  it('applies a change from the moment it is made, keeping what accrued before', () => {
    const t = fakeClock();
    const m = new TrafficModel({ clock: t.clock });
    m.set('shop', 'checkout', { rps: 10, errorShare: 0.1 });
    t.tick(3000);
    m.set('shop', 'checkout', { errorShare: 0.5 });
    expect(m.get('shop', 'checkout')).toEqual({ rps: 10, errorShare: 0.5, latencySeconds: 0.05 });
    t.tick(2000);
    const body = m.render();
    expect(sample(body, checkout('200'))).toBeCloseTo(27 + 10, 9);
    expect(sample(body, checkout('500'))).toBeCloseTo(3 + 10, 9);
    m.set('shop', 'checkout', { rps: 0 });
    t.tick(10_000);
    expect(sample(m.render(), checkout('500'))).toBeCloseTo(13, 9);
  });

  it('spreads a latency mix over the buckets and keeps services apart', () => {
    const t = fakeClock();
    const m = new TrafficModel({ clock: t.clock });
    m.set('shop', 'checkout', { rps: 100, latencySeconds: [[0.01, 0.9], [2, 0.1]] });
    t.tick(500);
    m.set('shop', 'cart', { rps: 4 });
    t.tick(500);
    const body = m.render();
    expect([0.005, 0.01, 1, 2.5, 10].map((le) => sample(body, bucket(String(le))))).toEqual([0, 90, 90, 100, 100].map((n) => expect.closeTo(n, 9) as unknown));
    expect(sample(body, 'http_requests_total{namespace="shop",service="cart",code="200"}')).toBeCloseTo(2, 9);
  });

  it('uses the names, labels, extra matchers and le unit of a preset', () => {
    const t = fakeClock();
    const m = new TrafficModel({ clock: t.clock, preset: 'istio' });
    m.set('shop', 'checkout', { rps: 1, errorShare: 1, latencySeconds: 0.05 });
    t.tick(1000);
    const body = m.render();
    const c = PRESETS.istio;
    expect(body).toContain(`# TYPE ${c.requests} counter`);
    expect(sample(body, 'istio_requests_total{reporter="destination",destination_service_namespace="shop",destination_service_name="checkout",response_code="500"}')).toBe(1);
    expect(sample(body, 'istio_request_duration_milliseconds_bucket{reporter="destination",destination_service_namespace="shop",destination_service_name="checkout",le="50"}')).toBe(1);
    expect(sample(body, 'istio_request_duration_milliseconds_bucket{reporter="destination",destination_service_namespace="shop",destination_service_name="checkout",le="25"}')).toBe(0);
  });

  it('refuses traffic that cannot be', () => {
    const m = new TrafficModel();
    expect(() => {
      m.set('a', 'b', { errorShare: 1.5 });
    }).toThrow(/errorShare must be within 0..1/);
    expect(() => {
      m.set('a', 'b', { rps: -1 });
    }).toThrow(/rps must be/);
    expect(() => {
      m.set('a', 'b', { latencySeconds: [[0.1, 0.5]] });
    }).toThrow(/shares must sum to 1/);
    expect(m.get('a', 'b')).toBeUndefined();
  });
});

describe('startTestExporter', () => {
  let exporter: TestExporter;
  beforeAll(async () => {
    exporter = await startTestExporter();
    exporter.set('shop', 'checkout', { rps: 50, errorShare: 0.08 });
    exporter.set('shop', 'cart', { rps: 20 });
  });
  afterAll(() => exporter.stop());

  it('serves the text format on loopback and records each scrape', async () => {
    expect(exporter.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${exporter.url}${exporter.metricsPath}`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const body = await res.text();
    expect(exporter.scrapes.at(-1)?.body).toBe(body);
    expect((await fetch(`${exporter.url}/other`)).status).toBe(404);
  });

  it('is accepted by promtool and carries every series the default preset queries', async () => {
    const body = await (await fetch(`${exporter.url}/metrics`)).text();
    const checked = run('promtool', ['check', 'metrics']);
    checked.child.stdin?.end(body);
    const { stdout, stderr } = await checked;
    expect(stdout + stderr).toBe('');
    const q = presetQueries(PRESETS.default, 'shop', 'checkout');
    expect(q.requests).toBe('http_requests_total{namespace="shop",service="checkout"}');
    for (const selector of [q.requests, q.latencyBucket]) expect(body).toContain(selector.slice(0, -1));
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetQueries, PRESETS } from '../../src/metrics/conventions.js';
import { startAlertmanager } from './alertmanager.js';
import type { RunningAlertmanager } from './alertmanager.js';
import { errorShareAlertRule, startScrapingPrometheus } from './prometheus-scrape.js';
import type { ScrapingPrometheus } from './prometheus-scrape.js';
import { startTestExporter } from './test-exporter.js';
import type { TestExporter } from './test-exporter.js';
import { waitFor } from './wait.js';
import { startWebhookReceiver } from './webhook-receiver.js';
import type { AlertmanagerWebhookPayload, ReceivedRequest, WebhookReceiver } from './webhook-receiver.js';

// The live metrics chain on loopback: test exporter → Prometheus scraping it every second and
// evaluating a 5xx-share alert → Alertmanager → a webhook receiver, with traffic changed at runtime.

let exporter: TestExporter;
let receiver: WebhookReceiver;
let alertmanager: RunningAlertmanager;
let prometheus: ScrapingPrometheus | undefined;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  exporter = await startTestExporter();
  stops.push(exporter.stop);
  exporter.set('shop', 'checkout', { rps: 50, errorShare: 0.08, latencySeconds: 0.04 });
  exporter.set('shop', 'cart', { rps: 20, errorShare: 0.001 });
  receiver = await startWebhookReceiver();
  stops.push(receiver.stop);
  alertmanager = await startAlertmanager({ webhookUrl: receiver.url });
  stops.push(alertmanager.stop);
  prometheus = await startScrapingPrometheus({
    targets: [exporter.target],
    rules: [errorShareAlertRule({ threshold: 0.05, windowSeconds: 5 })],
    alertmanagers: [alertmanager.target],
  });
  stops.push(prometheus.stop);
});

afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
});

const logs = () => `prometheus log:\n${prometheus?.logTail() ?? ''}\nalertmanager log:\n${alertmanager.logTail()}`;

function prom(): ScrapingPrometheus {
  if (prometheus === undefined) throw new Error('prometheus did not start');
  return prometheus;
}

const value = (samples: { value: [number, string] }[]) => (samples.length === 1 ? Number(samples[0]?.value[1]) : undefined);

/** A query's single value once `accept` takes it, within 20 s. */
function settle(promql: string, accept: (v: number) => boolean): Promise<number> {
  let last: number | undefined;
  return waitFor(
    `${promql} to settle`,
    async () => {
      last = value(await prom().query(promql));
      return last !== undefined && accept(last) ? last : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 250, detail: () => `last value ${String(last)}; prometheus log:\n${prom().logTail()}` },
  );
}

function payload(r: ReceivedRequest): AlertmanagerWebhookPayload {
  return r.body as AlertmanagerWebhookPayload;
}

const forService = (status: 'firing' | 'resolved', service: string) => (r: ReceivedRequest) =>
  payload(r).alerts.some((a) => a.status === status && a.labels.service === service && a.labels.alertname === 'HighErrorShare');

describe('exporter → Prometheus (scrape mode)', () => {
  it('stores exactly what the exporter served, under the names the default preset queries', async () => {
    const q = presetQueries(PRESETS.default, 'shop', 'checkout');
    const errors = await waitFor('a scrape of checkout errors', async () => {
      const r = await prom().query(q.errors);
      return r.length === 1 && Number(r[0]?.value[1]) > 0 ? r : undefined;
    });
    expect(errors[0]?.metric).toMatchObject({ __name__: 'http_requests_total', namespace: 'shop', service: 'checkout', code: '500', job: 'test' });
    const stored = Number(errors[0]?.value[1]);
    const served = exporter.scrapes.map((s) => s.body.split('\n').find((l) => l.startsWith('http_requests_total{namespace="shop",service="checkout",code="500"} ')));
    expect(served.map((l) => Number(l?.split(' ')[1]))).toContain(stored);
    expect(await prom().query(q.requests)).toHaveLength(2);
    expect(await prom().query(q.latencyBucket)).toHaveLength(12);
  });

  it('sees the 5xx share and latency the test sets, and their changes', async () => {
    const share = (service: string) =>
      `sum(rate(http_requests_total{service="${service}",code=~"5.."}[5s])) / sum(rate(http_requests_total{service="${service}"}[5s]))`;
    expect(await settle(share('checkout'), (v) => Math.abs(v - 0.08) < 1e-9)).toBeCloseTo(0.08, 9);
    expect(await settle(share('cart'), (v) => Math.abs(v - 0.001) < 1e-9)).toBeCloseTo(0.001, 9);
    const median = 'histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{service="checkout"}[5s])))';
    // 0.04 s lies in the (0.025, 0.05] bucket; after the change every request falls in (0.25, 0.5].
    expect(await settle(median, (v) => v > 0.025 && v <= 0.05)).toBeGreaterThan(0.025);
    exporter.set('shop', 'checkout', { latencySeconds: 0.4 });
    expect(await settle(median, (v) => v > 0.25 && v <= 0.5)).toBeLessThanOrEqual(0.5);
  });
});

describe('→ alert rule → Alertmanager → webhook', () => {
  it('notifies a version 4 payload for the service over the 5xx threshold only, then its resolution', async () => {
    const fired = await receiver.waitFor('a firing HighErrorShare for checkout', forService('firing', 'checkout'), { detail: logs });
    const body = payload(fired);
    expect(fired.path).toBe('/hook');
    expect(fired.headers['content-type']).toMatch(/^application\/json/);
    expect(body).toMatchObject({ version: '4', status: 'firing', receiver: 'test', groupLabels: { alertname: 'HighErrorShare', namespace: 'shop', service: 'checkout' } });
    expect(body.externalURL).toBe(alertmanager.url);
    const alert = body.alerts.find((a) => a.labels.service === 'checkout');
    expect(alert?.labels).toEqual({ alertname: 'HighErrorShare', namespace: 'shop', service: 'checkout', severity: 'page' });
    expect(alert?.annotations.summary).toBe('5xx share of checkout above 0.05');
    expect(alert?.generatorURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graph\?/);

    exporter.set('shop', 'checkout', { errorShare: 0 });
    await receiver.waitFor('the resolution of checkout', forService('resolved', 'checkout'), { detail: logs });
    expect(receiver.received.filter(forService('firing', 'cart'))).toEqual([]);
  });
});

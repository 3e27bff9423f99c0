import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, createServingCert } from '../../src/certs/x509.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { PrometheusSource } from '../../src/metrics/prometheus.js';
import type { PrometheusOptions } from '../../src/metrics/prometheus.js';
import { MetricSourceError } from '../../src/metrics/source.js';

// The Prometheus adapter's HTTP contract against a stand-in server on loopback: what it sends
// (auth, path prefix, the query on the grid) and how it classifies every kind of failure (R5: no
// data, an unreachable Prometheus and a bad query are different things, and none is a regression).

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
const seen: IncomingMessage[] = [];
const servers: Server[] = [];

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

let base = '';
beforeAll(async () => {
  const port = await listen(
    createHttpServer((req, res) => {
      seen.push(req);
      handler(req, res);
    }),
  );
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const json = (status: number, body: unknown): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};
/** A Prometheus stand-in: `data` per API path (a value or a function of the URL); empty answers elsewhere. */
const fake = (routes: Record<string, unknown> = {}): Handler => (req, res) => {
  const url = new URL(req.url ?? '', base);
  const route = routes[url.pathname.replace(/^\/prometheus/, '')];
  const data = typeof route === 'function' ? (route as (u: URL) => unknown)(url) : (route ?? (url.pathname.endsWith('/query_range') ? { resultType: 'matrix', result: [] } : []));
  json(200, { status: 'success', data })(req, res);
};
const matrix = (result: unknown[]) => fake({ '/api/v1/query_range': { resultType: 'matrix', result } });
const source = (extra: Partial<PrometheusOptions> = {}) => new PrometheusSource({ url: base, metrics: DEFAULT_POLICY.metrics, ...extra });
const query = { namespace: 'shop', service: 'checkout', start: 1_772_442_000_000, end: 1_772_445_600_000, stepMs: 30_000 };

async function failure(p: Promise<unknown>): Promise<MetricSourceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MetricSourceError);
  return err as MetricSourceError;
}

describe('R5 what the adapter asks Prometheus', () => {
  it('range-queries the preset selectors on the grid, each as last_over_time over one step', async () => {
    seen.length = 0;
    handler = matrix([]);
    await source().rangeQuery(query);
    const urls = seen.map((r) => new URL(r.url ?? '', base)).filter((u) => u.pathname === '/api/v1/query_range');
    expect(urls).toHaveLength(3);
    expect(urls.map((u) => u.searchParams.get('query'))).toEqual([
      'last_over_time(http_requests_total{namespace="shop",service="checkout"}[29999ms])',
      'last_over_time(http_requests_total{namespace="shop",service="checkout",code=~"5.."}[29999ms])',
      'last_over_time(http_request_duration_seconds_bucket{namespace="shop",service="checkout"}[29999ms])',
    ]);
    expect(urls[0]?.searchParams.get('start')).toBe('1772442000');
    expect(urls[0]?.searchParams.get('end')).toBe('1772445600');
    expect(urls[0]?.searchParams.get('step')).toBe('30s');
  });

  it('keeps a path prefix and sends a bearer token', async () => {
    seen.length = 0;
    handler = matrix([]);
    await source({ url: `${base}/prometheus`, bearerToken: 's3cret' }).rangeQuery(query);
    expect(seen[0]?.url?.startsWith('/prometheus/api/v1/query_range?')).toBe(true);
    expect(seen[0]?.headers.authorization).toBe('Bearer s3cret');
  });

  it('sends basic auth', async () => {
    seen.length = 0;
    handler = json(200, { status: 'success', data: ['checkout'] });
    await source({ basicAuth: { username: 'sre', password: 'pw:1' } }).listServices('shop', query.start, query.end);
    expect(seen[0]?.headers.authorization).toBe(`Basic ${Buffer.from('sre:pw:1').toString('base64')}`);
    const u = new URL(seen[0]?.url ?? '', base);
    expect(u.pathname).toBe('/api/v1/label/service/values');
    expect(u.searchParams.get('match[]')).toBe('{__name__="http_requests_total",namespace="shop"}');
  });

  it('quotes hostile label values instead of injecting them into PromQL', async () => {
    seen.length = 0;
    handler = matrix([]);
    await source().rangeQuery({ ...query, service: 'a"} or vector(1) #' });
    expect(new URL(seen[0]?.url ?? '', base).searchParams.get('query')).toContain('service="a\\"} or vector(1) #"');
  });

  it('turns the matrix into counters in epoch ms and le into seconds (ms for Istio)', async () => {
    handler = matrix([{ metric: { code: '200', le: '250' }, values: [[1772442000, '10'], [1772442030.5, '12']] }]);
    const istio = new PrometheusSource({ url: base, metrics: { ...DEFAULT_POLICY.metrics, preset: 'istio' } });
    const raw = await istio.rangeQuery(query);
    expect(raw.requests[0]?.samples).toEqual([[1772442000000, 10], [1772442030500, 12]]);
    expect(raw.latency[0]?.le).toBeCloseTo(0.25, 12);
  });
});

describe('R5 failures are classified: unreachable, unauthorized, invalid query, bad response', () => {
  it('no data is an empty result, not an error', async () => {
    handler = matrix([]);
    const raw = await source().rangeQuery(query);
    expect(raw).toMatchObject({ namespace: 'shop', service: 'checkout', requests: [], errors: [], latency: [], match: { kind: 'none' } });
  });

  it('a closed port is "unreachable"', async () => {
    const port = await listen(createHttpServer());
    const closed = servers.pop();
    await new Promise((r) => closed?.close(r));
    const err = await failure(new PrometheusSource({ url: `http://127.0.0.1:${port}`, metrics: DEFAULT_POLICY.metrics }).rangeQuery(query));
    expect(err.kind).toBe('unreachable');
    expect(err.message).toMatch(/Prometheus unreachable at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  it('no answer within the timeout is "unreachable" and says so', async () => {
    handler = () => undefined;
    const err = await failure(source({ timeoutMs: 200 }).rangeQuery(query));
    expect(err.kind).toBe('unreachable');
    expect(err.message).toMatch(/no answer within 200 ms/);
  });

  it('401 is "unauthorized"', async () => {
    handler = (_req, res) => res.writeHead(401).end('Unauthorized');
    expect((await failure(source().rangeQuery(query))).kind).toBe('unauthorized');
  });

  it('a bad_data answer is "invalid-query" with Prometheus\' reason', async () => {
    handler = json(400, { status: 'error', errorType: 'bad_data', error: '1:20: parse error: unexpected "}"' });
    const err = await failure(source().rangeQuery(query));
    expect(err.kind).toBe('invalid-query');
    expect(err.message).toContain('parse error: unexpected "}"');
  });

  it('a scalar where counters were expected is "invalid-query"', async () => {
    handler = json(200, { status: 'success', data: { resultType: 'scalar', result: [0, '1'] } });
    expect((await failure(source().rangeQuery(query))).kind).toBe('invalid-query');
  });

  it('bucket series without a numeric le are "invalid-query"', async () => {
    handler = matrix([{ metric: { le: 'fast' }, values: [[1772442000, '1']] }]);
    expect((await failure(source().rangeQuery(query))).message).toMatch(/without a numeric "le" label/);
  });

  it('HTML from a wrong URL is "bad-response"', async () => {
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Grafana</html>');
    const err = await failure(source().rangeQuery(query));
    expect(err.kind).toBe('bad-response');
    expect(err.message).toMatch(/not JSON.*is the URL the Prometheus server/);
  });

  it('a server-side timeout is "bad-response"', async () => {
    handler = json(503, { status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' });
    expect((await failure(source().rangeQuery(query))).kind).toBe('bad-response');
  });

  it('a URL that is not http(s) is refused up front', () => {
    expect(() => new PrometheusSource({ url: 'ftp://prom', metrics: DEFAULT_POLICY.metrics })).toThrow(/must be http:\/\/ or https:\/\//);
    expect(() => new PrometheusSource({ url: 'prometheus:9090/x y', metrics: DEFAULT_POLICY.metrics })).toThrow(MetricSourceError);
  });
});

describe('R5 a Prometheus behind a private CA', () => {
  it('is trusted with the configured CA bundle and unreachable without it', async () => {
    const now = Date.now();
    const ca = createCa({ commonName: 'test metrics CA', days: 1, now });
    const leaf = createServingCert({ ca, names: ['127.0.0.1'], days: 1, now });
    const port = await listen(createHttpsServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => res.writeHead(200).end(JSON.stringify({ status: 'success', data: ['checkout'] }))));
    const url = `https://127.0.0.1:${port}`;
    const trusted = new PrometheusSource({ url, ca: ca.certPem, metrics: DEFAULT_POLICY.metrics });
    expect(await trusted.listServices('shop', 0, 1)).toEqual(['checkout']);
    const untrusted = new PrometheusSource({ url, metrics: DEFAULT_POLICY.metrics });
    expect((await failure(untrusted.listServices('shop', 0, 1))).kind).toBe('unreachable');
  });
});

const oneSeries = (labels: Record<string, string>) => ({ resultType: 'matrix', result: [{ metric: labels, values: [[1772442000, '10']] }] });
const paths = () => seen.map((r) => new URL(r.url ?? '', base));

describe('R5 a selector that matches nothing is explained, never silent', () => {
  it('R5: the normal path asks nothing more than the three range queries', async () => {
    seen.length = 0;
    handler = fake({ '/api/v1/query_range': oneSeries({ code: '200', le: '+Inf' }) });
    const raw = await source().rangeQuery(query);
    expect(paths().map((u) => u.pathname)).toEqual(['/api/v1/query_range', '/api/v1/query_range', '/api/v1/query_range']);
    expect(raw.match).toMatchObject({ kind: 'exact', selector: 'http_requests_total{namespace="shop",service="checkout"}' });
  });

  it('R5: an empty result asks /api/v1/labels for the metric over the span and names its labels', async () => {
    seen.length = 0;
    handler = fake({ '/api/v1/labels': ['__name__', 'code', 'namespace', 'app'] });
    const raw = await source().rangeQuery(query);
    const labels = paths().find((u) => u.pathname === '/api/v1/labels');
    expect(labels?.searchParams.get('match[]')).toBe('http_requests_total');
    expect(labels?.searchParams.get('start')).toBe(String((query.start - query.stepMs) / 1000));
    expect(labels?.searchParams.get('end')).toBe(String(query.end / 1000));
    expect(raw.match).toMatchObject({ kind: 'none', source: 'Prometheus', metric: 'http_requests_total', holds: { labels: ['app', 'code', 'namespace'] } });
    expect(raw.match?.hint).toMatch(/^no service label: set metrics\.serviceLabel: app /);
  });

  it('R5: a metric Prometheus does not hold: the nearest metric names, and the preset that has them', async () => {
    seen.length = 0;
    handler = fake({ '/api/v1/labels': [], '/api/v1/label/__name__/values': ['up', 'istio_requests_total', 'http_request_total', 'process_cpu_seconds_total'] });
    const raw = await source().rangeQuery(query);
    expect(paths().some((u) => u.pathname === '/api/v1/label/__name__/values')).toBe(true);
    expect(raw.match?.holds).toEqual({ labels: undefined, nearest: ['istio_requests_total', 'http_request_total'] });
    expect(raw.match?.hint).toMatch(/^set metrics\.preset: istio/);
  });

  it('R5: a metric without any namespace label is matched on the service label alone', async () => {
    seen.length = 0;
    handler = fake({
      '/api/v1/labels': ['__name__', 'code', 'service'],
      '/api/v1/query_range': (u: URL) => (u.searchParams.get('query')?.includes('namespace=') ? { resultType: 'matrix', result: [] } : oneSeries({ code: '200', service: 'checkout', le: '+Inf' })),
    });
    const raw = await source().rangeQuery(query);
    expect(raw.requests).toHaveLength(1);
    expect(raw.match).toMatchObject({ kind: 'service-only', selector: 'http_requests_total{service="checkout"}' });
    const ranges = paths().filter((u) => u.pathname === '/api/v1/query_range').map((u) => u.searchParams.get('query'));
    expect(ranges.slice(3)).toEqual([
      'last_over_time(http_requests_total{service="checkout"}[29999ms])',
      'last_over_time(http_requests_total{service="checkout",code=~"5.."}[29999ms])',
      'last_over_time(http_request_duration_seconds_bucket{service="checkout"}[29999ms])',
    ]);
  });

  it('R5: the policy metric labels go into the selectors and the service listing; an empty namespaceLabel leaves the namespace out', async () => {
    seen.length = 0;
    handler = fake({ '/api/v1/query_range': oneSeries({ status: '200', le: '+Inf' }), '/api/v1/label/app/values': ['checkout'] });
    const labelled = source({ metrics: { ...DEFAULT_POLICY.metrics, serviceLabel: 'app', namespaceLabel: 'kubernetes_namespace', statusLabel: 'status' } });
    await labelled.rangeQuery(query);
    expect(await labelled.listServices('shop', query.start, query.end)).toEqual(['checkout']);
    const urls = paths();
    expect(urls.slice(0, 2).map((u) => u.searchParams.get('query'))).toEqual([
      'last_over_time(http_requests_total{kubernetes_namespace="shop",app="checkout"}[29999ms])',
      'last_over_time(http_requests_total{kubernetes_namespace="shop",app="checkout",status=~"5.."}[29999ms])',
    ]);
    expect(urls[3]?.searchParams.get('match[]')).toBe('{__name__="http_requests_total",kubernetes_namespace="shop"}');

    seen.length = 0;
    const namespaceless = source({ metrics: { ...DEFAULT_POLICY.metrics, namespaceLabel: '' } });
    const raw = await namespaceless.rangeQuery(query);
    await namespaceless.listServices('shop', query.start, query.end);
    expect(paths()[0]?.searchParams.get('query')).toBe('last_over_time(http_requests_total{service="checkout"}[29999ms])');
    expect(paths()[3]?.searchParams.get('match[]')).toBe('{__name__="http_requests_total"}');
    expect(raw.match).toMatchObject({ kind: 'service-only', namespaceLabel: '' });
  });

  it('R2: an empty service listing of a metric without a namespace label lists on the service label alone', async () => {
    seen.length = 0;
    handler = fake({
      '/api/v1/labels': ['__name__', 'code', 'service'],
      '/api/v1/label/service/values': (u: URL) => (u.searchParams.get('match[]')?.includes('namespace=') ? [] : ['cart', 'checkout']),
    });
    expect(await source().listServices('shop', query.start, query.end)).toEqual(['cart', 'checkout']);
  });
});

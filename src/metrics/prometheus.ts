import type { Policy } from '../core/policy.js';
import type { BucketSeries, CounterSeries, RawServiceSeries } from '../core/regression-series.js';
import type { MetricHoldings } from '../core/metric-match.js';
import { conventionFor, parseLe, promString, queriesFor } from './conventions.js';
import { httpGet, HttpUnreachable } from './http-get.js';
import type { HttpOptions } from './http-get.js';
import { matchedSeries, matchedServices, presetCounters } from './match.js';
import type { ServiceSeries } from './match.js';
import { nearestNames } from './nearest-names.js';
import { MetricSourceError } from './source.js';
import type { MetricSource, RangeQuery } from './source.js';

// Prometheus over its HTTP API. Each query is a selector of cumulative counters evaluated with
// /api/v1/query_range on the detector's grid, so the samples are the same ones the OpenMetrics file
// source would read (see `counters`); failures say whether Prometheus was unreachable, refused the credentials,
// rejected the query, or answered something unexpected. An empty result is "no data", not an error,
// and is explained: only then does the adapter ask which labels the metric has (see match.ts).

export interface PrometheusOptions {
  /** Base URL, e.g. http://prometheus.monitoring:9090 (a path prefix is kept). */
  url: string;
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
  /** PEM CA bundle for an https URL with a private CA. */
  ca?: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  metrics: Policy['metrics'];
}

interface ApiEnvelope {
  status?: unknown;
  data?: unknown;
  errorType?: unknown;
  error?: unknown;
}

interface MatrixEntry {
  metric: Record<string, string>;
  values: [number, string][];
}

function isMatrix(data: unknown): data is { resultType: 'matrix'; result: MatrixEntry[] } {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as { resultType?: unknown; result?: unknown };
  return d.resultType === 'matrix' && Array.isArray(d.result);
}

function matrixSeries(result: readonly MatrixEntry[]): CounterSeries[] {
  return result.map((entry) => ({
    labels: entry.metric,
    samples: entry.values.map(([ts, v]) => [Math.round(ts * 1000), Number(v)] as const),
  }));
}

export class PrometheusSource implements MetricSource {
  private readonly base: URL;
  private readonly http: HttpOptions;

  constructor(private readonly options: PrometheusOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new MetricSourceError('unreachable', `Prometheus URL ${JSON.stringify(options.url)} is not a URL; expected e.g. http://prometheus.monitoring:9090`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new MetricSourceError('unreachable', `Prometheus URL ${options.url} must be http:// or https://`);
    }
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.base = base;
    this.http = {
      timeoutMs: options.timeoutMs ?? 10_000,
      ...(options.bearerToken !== undefined ? { bearerToken: options.bearerToken } : {}),
      ...(options.basicAuth ? { basicAuth: options.basicAuth } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    };
  }

  /** GETs an API path and returns `data` of a successful answer, or throws a classified error. */
  private async api(path: string, params: Record<string, string | string[]>, what: string): Promise<unknown> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, one);
    let res;
    try {
      res = await httpGet(url, this.http);
    } catch (err) {
      if (err instanceof HttpUnreachable) {
        throw new MetricSourceError('unreachable', `Prometheus unreachable at ${this.base.origin}: ${err.message}`, { cause: err });
      }
      throw err;
    }
    if (res.status === 401 || res.status === 403) {
      throw new MetricSourceError('unauthorized', `Prometheus at ${this.base.origin} refused the credentials (HTTP ${res.status}); check the bearer token or basic auth`);
    }
    let body: ApiEnvelope;
    try {
      body = JSON.parse(res.body) as ApiEnvelope;
    } catch {
      throw new MetricSourceError('bad-response', `Prometheus at ${this.base.origin} answered HTTP ${res.status} with a body that is not JSON: ${JSON.stringify(res.body.slice(0, 120))}; is the URL the Prometheus server?`);
    }
    if (body.status === 'success') return body.data;
    const reason = typeof body.error === 'string' ? body.error : res.status === 404 ? `HTTP 404 at ${url.pathname}; is the URL the Prometheus server (with its path prefix)?` : `HTTP ${res.status}`;
    if (body.errorType === 'bad_data' || body.errorType === 'execution' || res.status === 400 || res.status === 422) {
      throw new MetricSourceError('invalid-query', `Prometheus rejected ${what}: ${reason}`);
    }
    throw new MetricSourceError('bad-response', `Prometheus failed ${what}: ${typeof body.errorType === 'string' ? body.errorType : 'error'}: ${reason}`);
  }

  /**
   * Raw counter samples on the grid. `last_over_time(sel[step − 1ms])` returns, at each grid point,
   * the last sample scraped in the interval ending there, and nothing for an interval without one:
   * the same reading as the file source, where a plain selector would repeat stale values for up to
   * the 5-minute lookback and hide gaps.
   */
  private async counters(query: string, q: RangeQuery): Promise<CounterSeries[]> {
    const wrapped = `last_over_time(${query}[${Math.max(1, q.stepMs - 1)}ms])`;
    const data = await this.api(
      'api/v1/query_range',
      { query: wrapped, start: String(q.start / 1000), end: String(q.end / 1000), step: `${q.stepMs / 1000}s` },
      `the query ${query} (metric queries must be series selectors of cumulative counters, e.g. http_requests_total{service="$service"}; rollguard computes the increases)`,
    );
    if (!isMatrix(data)) {
      throw new MetricSourceError('invalid-query', `the query ${query} must select counters (a range-query matrix), but Prometheus returned ${JSON.stringify(data).slice(0, 80)}`);
    }
    return matrixSeries(data.result);
  }

  /**
   * The samples as scraped in [start, end]: a range selector evaluated at `end` returns every
   * sample with its own timestamp. Only a plain selector takes a range; Prometheus rejects others.
   */
  private async scraped(query: string, q: RangeQuery): Promise<CounterSeries[]> {
    const data = await this.api(
      'api/v1/query',
      { query: `${query}[${String(q.end - q.start + 1)}ms]`, time: String(q.end / 1000) },
      `the raw samples of ${query} (only a series selector can be read raw)`,
    );
    if (!isMatrix(data)) {
      throw new MetricSourceError('invalid-query', `the raw samples of ${query} must be a matrix, but Prometheus returned ${JSON.stringify(data).slice(0, 80)}`);
    }
    return matrixSeries(data.result);
  }

  private async read(q: RangeQuery, namespace: string | undefined, counters = (query: string) => this.counters(query, q)): Promise<ServiceSeries> {
    const queries = queriesFor(this.options.metrics, namespace, q.service);
    const unit = conventionFor(this.options.metrics).leUnitSeconds;
    const [requests, errors, buckets] = await Promise.all([counters(queries.requests), counters(queries.errors), counters(queries.latencyBucket)]);
    const latency: BucketSeries[] = [];
    for (const b of buckets) {
      const le = parseLe(b.labels.le, unit);
      if (le === undefined) {
        throw new MetricSourceError('invalid-query', `the latency query ${queries.latencyBucket} returned a series without a numeric "le" label; it must select histogram _bucket counters`);
      }
      latency.push({ ...b, le });
    }
    return { namespace: q.namespace, service: q.service, requests, errors, latency };
  }

  private async names(path: string, params: Record<string, string>, what: string): Promise<string[]> {
    const data = await this.api(path, params, what);
    if (!Array.isArray(data) || !data.every((v) => typeof v === 'string')) {
      throw new MetricSourceError('bad-response', `Prometheus answered ${what} with ${JSON.stringify(data).slice(0, 80)} instead of a list of names`);
    }
    return data;
  }

  /** What Prometheus holds for a metric over [start, end] (asked only after a selector matched nothing). */
  private async holdings(metric: string, start: number, end: number): Promise<MetricHoldings> {
    const span = { start: String(start / 1000), end: String(end / 1000) };
    const labels = await this.names('api/v1/labels', { 'match[]': metric, ...span }, `the label names of ${metric}`);
    const own = labels.filter((l) => l !== '__name__').sort();
    if (labels.length > 0) return { labels: own };
    const held = await this.names('api/v1/label/__name__/values', span, 'the metric names');
    return { labels: undefined, nearest: nearestNames(metric, held, presetCounters()) };
  }

  rangeQuery(q: RangeQuery): Promise<RawServiceSeries> {
    return matchedSeries(this.options.metrics, q, {
      name: 'Prometheus',
      read: (namespace) => this.read(q, namespace),
      holdings: (metric) => this.holdings(metric, q.start - q.stepMs, q.end),
    });
  }

  scrapedSamples(q: RangeQuery): Promise<RawServiceSeries> {
    return matchedSeries(this.options.metrics, q, {
      name: 'Prometheus',
      read: (namespace) => this.read(q, namespace, (query) => this.scraped(query, q)),
      holdings: (metric) => this.holdings(metric, q.start, q.end),
    });
  }

  listServices(namespace: string, start: number, end: number): Promise<string[]> {
    const c = conventionFor(this.options.metrics);
    const list = async (ns: string | undefined): Promise<string[]> => {
      const matchers = [
        `__name__=${promString(c.requests)}`,
        ...(ns !== undefined ? [`${c.namespaceLabel}=${promString(ns)}`] : []),
        ...Object.entries(c.extraMatchers).map(([k, v]) => `${k}=${promString(v)}`),
      ];
      const found = await this.names(
        `api/v1/label/${encodeURIComponent(c.serviceLabel)}/values`,
        { 'match[]': `{${matchers.join(',')}}`, start: String(start / 1000), end: String(end / 1000) },
        `the service listing of namespace ${namespace}`,
      );
      return [...found].sort();
    };
    return matchedServices(this.options.metrics, namespace, list, (metric) => this.holdings(metric, start, end));
  }

  /**
   * Whether Prometheus answers its query API at this URL with these credentials (the dependency
   * probe): an instant query of `1`. Throws a MetricSourceError that says what to fix.
   */
  async probe(): Promise<void> {
    const data = await this.api('api/v1/query', { query: '1' }, 'the probe query "1"');
    const d = data as { resultType?: unknown } | null;
    if (d?.resultType !== 'scalar') {
      throw new MetricSourceError('bad-response', `the server at ${this.base.href} answered the probe query "1" with ${JSON.stringify(data).slice(0, 80)}, not a scalar; is the URL the Prometheus server (with its path prefix)?`);
    }
  }
}

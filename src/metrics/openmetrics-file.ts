import { readFile } from 'node:fs/promises';
import type { Policy } from '../core/policy.js';
import type { BucketSeries, CounterSeries, RawServiceSeries } from '../core/regression-series.js';
import type { MetricHoldings } from '../core/metric-match.js';
import { conventionFor, parseLe, serverErrorMatcher } from './conventions.js';
import type { MetricConvention } from './conventions.js';
import { OpenMetricsSyntaxError, parseOpenMetrics } from './openmetrics-format.js';
import { matchedSeries, matchedServices, presetCounters } from './match.js';
import type { ServiceSeries } from './match.js';
import { nearestNames } from './nearest-names.js';
import { indexSamples } from './series-index.js';
import type { IndexedSeries } from './series-index.js';
import { MetricSourceError } from './source.js';
import type { MetricSource, RangeQuery } from './source.js';

// A metric source over a timestamped OpenMetrics file: the embedded default for local runs and
// tests, no Prometheus needed. It understands the preset conventions natively; PromQL overrides
// need a PromQL engine, so a policy with query overrides is refused with a clear message.

export class OpenMetricsFileSource implements MetricSource {
  private readonly index: Map<string, IndexedSeries[]>;
  private readonly convention: MetricConvention;
  private readonly metrics: Policy['metrics'];

  /** `text`: the file's content, or the samples of another source over the same file (`withMetrics`). */
  constructor(text: string | ReadonlyMap<string, IndexedSeries[]>, metrics: Policy['metrics'], origin = 'OpenMetrics text') {
    const overridden = Object.keys(metrics.queries).filter((k) => metrics.queries[k as keyof typeof metrics.queries] !== undefined);
    if (overridden.length > 0) {
      throw new MetricSourceError(
        'invalid-query',
        `the OpenMetrics file source understands the metric presets only, but the policy overrides metrics.queries.${overridden.join(', ')} with PromQL; use a Prometheus source or remove the override`,
      );
    }
    try {
      this.index = typeof text === 'string' ? indexSamples(parseOpenMetrics(text)) : new Map(text);
    } catch (err) {
      if (err instanceof OpenMetricsSyntaxError) throw new MetricSourceError('bad-file', `${origin}: ${err.message}`, { cause: err });
      throw err;
    }
    this.convention = conventionFor(metrics);
    this.metrics = metrics;
  }

  static async fromFile(path: string, metrics: Policy['metrics']): Promise<OpenMetricsFileSource> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new MetricSourceError('bad-file', `cannot read the OpenMetrics file ${path}: ${(err as Error).message}`, { cause: err });
    }
    return new OpenMetricsFileSource(text, metrics, path);
  }

  /** The same samples read under another policy's metric conventions (a namespace's own labels). */
  withMetrics(metrics: Policy['metrics']): OpenMetricsFileSource {
    return new OpenMetricsFileSource(this.index, metrics);
  }

  /** Series of a metric for a service (any service when undefined), with the namespace label when a namespace is given. */
  private matching(name: string, namespace: string | undefined, service?: string): IndexedSeries[] {
    const c = this.convention;
    return (this.index.get(name) ?? []).filter(
      (s) =>
        (namespace === undefined || c.namespaceLabel === '' || s.labels[c.namespaceLabel] === namespace) &&
        (service === undefined || s.labels[c.serviceLabel] === service) &&
        Object.entries(c.extraMatchers).every(([k, v]) => s.labels[k] === v),
    );
  }

  /** Samples in (after, until] of the service's counters. */
  private read(q: RangeQuery, namespace: string | undefined, after: number): ServiceSeries {
    const within = (s: IndexedSeries): CounterSeries => ({
      labels: s.labels,
      samples: s.samples.filter(([ts]) => ts > after && ts <= q.end),
    });
    const nonEmpty = (s: CounterSeries) => s.samples.length > 0;
    const c = this.convention;
    const requests = this.matching(c.requests, namespace, q.service).map(within).filter(nonEmpty);
    const serverError = serverErrorMatcher(c);
    const errors = requests.filter((s) => serverError.test(s.labels[c.statusLabel] ?? ''));
    const latency: BucketSeries[] = [];
    for (const s of this.matching(c.latencyBuckets, namespace, q.service)) {
      const le = parseLe(s.labels.le, c.leUnitSeconds);
      const series = within(s);
      if (le !== undefined && nonEmpty(series)) latency.push({ ...series, le });
    }
    return { namespace: q.namespace, service: q.service, requests, errors, latency };
  }

  /** Label names of a metric's series with samples in [start, end]; undefined when there are none. */
  private holdings(metric: string, start: number, end: number): MetricHoldings {
    const inSpan = (this.index.get(metric) ?? []).filter((s) => s.samples.some(([ts]) => ts >= start && ts <= end));
    if (inSpan.length > 0) return { labels: [...new Set(inSpan.flatMap((s) => Object.keys(s.labels)))].sort() };
    return { labels: undefined, nearest: nearestNames(metric, this.index.keys(), presetCounters()) };
  }

  rangeQuery(q: RangeQuery): Promise<RawServiceSeries> {
    return matchedSeries(this.metrics, q, {
      name: 'the file',
      // What Prometheus' range query on the same grid returns: the first point covers (start − step, start].
      read: (namespace) => Promise.resolve(this.read(q, namespace, q.start - q.stepMs)),
      holdings: (metric) => Promise.resolve(this.holdings(metric, q.start - q.stepMs, q.end)),
    });
  }

  /** The file's samples are the scrapes themselves. */
  scrapedSamples(q: RangeQuery): Promise<RawServiceSeries> {
    return matchedSeries(this.metrics, q, {
      name: 'the file',
      read: (namespace) => Promise.resolve(this.read(q, namespace, q.start - 1)),
      holdings: (metric) => Promise.resolve(this.holdings(metric, q.start, q.end)),
    });
  }

  listServices(namespace: string, start: number, end: number): Promise<string[]> {
    const c = this.convention;
    const list = (ns: string | undefined): Promise<string[]> => {
      const names = new Set<string>();
      for (const s of this.matching(c.requests, ns)) {
        const service = s.labels[c.serviceLabel];
        if (service !== undefined && s.samples.some(([ts]) => ts >= start && ts <= end)) names.add(service);
      }
      return Promise.resolve([...names].sort());
    };
    return matchedServices(this.metrics, namespace, list, (metric) => Promise.resolve(this.holdings(metric, start, end)));
  }
}

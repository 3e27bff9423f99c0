import type { RawServiceSeries } from '../../src/core/regression-series.js';
import { generateSeries } from '../../test/support/metric-scenarios.js';
import { toOpenMetrics } from '../../test/support/prometheus.js';

// The example cluster's traffic: every service scraped every 30 s, request counters per status
// code and a latency histogram, with Poisson traffic, extra-binomial noise on the error share and
// each service's own baseline error rate. Written as timestamped OpenMetrics in the default preset
// (http_requests_total{namespace,service,code}, http_request_duration_seconds_bucket).

export const SCRAPE_MS = 30_000;

/** Histogram buckets the example services expose (seconds); fewer than the generator's, to keep the file small. */
const KEPT_BUCKETS = new Set(['0.05', '0.1', '0.25', '0.5', '1', '+Inf']);

export interface ServiceTraffic {
  namespace: string;
  service: string;
  /** Requests per second. */
  rate: number;
  /** 5xx share at time t. */
  errorShare: (t: number) => number;
  /** Median latency (s) at time t. */
  latencyMedian: (t: number) => number;
}

export interface Span {
  start: number;
  end: number;
}

/** One service's scraped series over `span` (aligned to the scrape grid). */
export function scrape(t: ServiceTraffic, span: Span, seed: number): RawServiceSeries {
  const start = Math.floor(span.start / SCRAPE_MS) * SCRAPE_MS;
  const end = Math.ceil(span.end / SCRAPE_MS) * SCRAPE_MS;
  const series = generateSeries({
    seed,
    namespace: t.namespace,
    service: t.service,
    stepMs: SCRAPE_MS,
    start,
    end,
    rate: () => t.rate,
    errorShare: t.errorShare,
    noise: 0.1,
    latencyMedian: t.latencyMedian,
  });
  return { ...series, latency: series.latency.filter((b) => KEPT_BUCKETS.has(b.labels.le ?? '')) };
}

export function openMetrics(all: readonly RawServiceSeries[]): string {
  return toOpenMetrics(all);
}

/** The error share steps from `base` to `after` at `from`. */
export const errorsFrom = (from: number, base: number, after: number) => (t: number) => (t >= from ? after : base);

/** A constant. */
export const flat = (v: number) => () => v;

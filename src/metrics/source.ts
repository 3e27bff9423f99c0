import type { RawServiceSeries } from '../core/regression-series.js';

// The one interface detection reads metrics through. Two adapters implement it: Prometheus over its
// HTTP API (prometheus.ts) and a timestamped OpenMetrics text file (openmetrics-file.ts), the
// embedded default for local runs. Sources return raw counters; alignment, counter resets and all
// statistics happen in the pure core, so both sources give the same answer on the same samples.

export interface RangeQuery {
  namespace: string;
  service: string;
  /**
   * Epoch ms, on the step grid. Samples in (start − step, end] are returned, as a Prometheus range
   * query on that grid sees them (see `querySpan` for how far before the detection grid to start).
   */
  start: number;
  end: number;
  /** Resolution for sources that evaluate on a grid (Prometheus): normally the scrape interval. */
  stepMs: number;
}

export interface MetricSource {
  /**
   * Request, 5xx and latency-bucket counters of one service. No data is not an error: the series
   * come back empty and detection reports `no-data` (never a regression, R5).
   * Throws `MetricSourceError` when the source cannot answer.
   */
  rangeQuery(query: RangeQuery): Promise<RawServiceSeries>;
  /**
   * The same counters as scraped, each sample at its own timestamp, in [start, end] (`stepMs` is
   * ignored): the finest data the source holds, read around a deploy start to place an onset
   * inside the detector's step. Optional: without it that onset stays as the grid locates it.
   */
  scrapedSamples?(query: RangeQuery): Promise<RawServiceSeries>;
  /** Services of a namespace that had request counters in [start, end], sorted (R2 neighbours). */
  listServices(namespace: string, start: number, end: number): Promise<string[]>;
  /** Whether the source answers at all (the dependency probe); absent where there is nothing to reach (a file). */
  probe?(): Promise<void>;
}

/**
 * Why a source could not answer: `unreachable` (network, TLS, timeout), `unauthorized` (401/403),
 * `invalid-query` (the source rejected the query: fix the policy's metric queries), `bad-response`
 * (an answer that is not what the API promises), `bad-file` (an unreadable or malformed file).
 */
export type MetricSourceErrorKind = 'unreachable' | 'unauthorized' | 'invalid-query' | 'bad-response' | 'bad-file';

export class MetricSourceError extends Error {
  override readonly name = 'MetricSourceError';
  constructor(
    readonly kind: MetricSourceErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

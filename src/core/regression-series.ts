import type { SeriesMatch } from './metric-match.js';
import type { Counts } from './stats-binomial.js';

// Metric series as sources deliver them (raw cumulative counters, one series per label set) and as
// the detector reads them (per-interval counts on a regular grid). Converting here, in one pure
// place, means every source (Prometheus, OpenMetrics file) yields the same counts from the same
// samples: counter resets, pods that appear mid-window and missing scrapes are handled once.

/** One counter time series: cumulative values at epoch-ms timestamps, in time order. */
export interface CounterSeries {
  labels: Readonly<Record<string, string>>;
  samples: readonly (readonly [number, number])[];
}

/** One histogram bucket counter; `le` is its upper bound in seconds (Infinity for "+Inf"). */
export interface BucketSeries extends CounterSeries {
  le: number;
}

/** The request and 5xx counters of one pod (the series whose pod label names it). */
export interface PodSeries {
  pod: string;
  requests: readonly CounterSeries[];
  errors: readonly CounterSeries[];
}

/** What a metric source returns for one service: raw counters, not yet aligned. */
export interface RawServiceSeries {
  namespace: string;
  service: string;
  /** Request counters of every status code. Empty when the source had no data. */
  requests: readonly CounterSeries[];
  /** Request counters of 5xx responses only. */
  errors: readonly CounterSeries[];
  /** Latency histogram bucket counters; may be empty when the service exports no histogram. */
  latency: readonly BucketSeries[];
  /** How the source's selector matched; undefined when the source does not say (taken as exact). */
  match?: SeriesMatch;
  /** The same request and 5xx counters per pod, when every request series carries the policy's pod label. */
  pods?: readonly PodSeries[];
}

/**
 * Groups request and 5xx counters by the pod label; undefined when there is no pod label or a
 * request series lacks it (aggregated series: the split by revision is then absent, F1).
 */
export function seriesByPod(requests: readonly CounterSeries[], errors: readonly CounterSeries[], podLabel: string): PodSeries[] | undefined {
  if (podLabel === '' || requests.length === 0) return undefined;
  const pods = new Map<string, { requests: CounterSeries[]; errors: CounterSeries[] }>();
  const entry = (pod: string) => pods.get(pod) ?? pods.set(pod, { requests: [], errors: [] }).get(pod);
  for (const s of requests) {
    const pod = s.labels[podLabel];
    if (pod === undefined || pod === '') return undefined;
    entry(pod)?.requests.push(s);
  }
  for (const s of errors) {
    const pod = s.labels[podLabel];
    if (pod !== undefined && pods.has(pod)) entry(pod)?.errors.push(s);
  }
  return [...pods].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([pod, c]) => ({ pod, ...c }));
}

/** Counts of one grid interval (end − step, end]. */
export interface IntervalCounts {
  end: number;
  requests: number;
  errors: number;
  /** Cumulative bucket counts per `bounds` entry (last is +Inf), or undefined without a histogram. */
  latency: number[] | undefined;
}

/** Per-interval counts on a regular grid; intervals without any request sample (gaps) are left out. */
export interface AlignedSeries {
  namespace: string;
  service: string;
  stepMs: number;
  /** Histogram bucket upper bounds in seconds, ascending; the last is Infinity when present. */
  bounds: number[];
  intervals: IntervalCounts[];
}

export interface Grid {
  /** Grid origin: the first interval is (start, start + step]. Samples at or before it are references. */
  start: number;
  end: number;
  stepMs: number;
}

/**
 * How far before the grid a source should return samples: the latest sample at or before the grid
 * start is each counter's reference, and a counter without one is taken as born inside the grid
 * (counted from zero), which would turn a scrape missed just before the start into a huge burst.
 * Five minutes, as Prometheus' default lookback, rounded up to whole steps.
 */
export function querySpan(grid: Grid): { start: number; end: number; stepMs: number } {
  const lookback = Math.ceil(300_000 / grid.stepMs) * grid.stepMs;
  return { start: grid.start - lookback, end: grid.end, stepMs: grid.stepMs };
}

/** Index of the grid interval holding timestamp `ts` (start excluded), or -1 outside the grid. */
function intervalIndex(ts: number, grid: Grid, count: number): number {
  if (ts <= grid.start) return -1;
  const i = Math.ceil((ts - grid.start) / grid.stepMs) - 1;
  return i < count ? i : -1;
}

/**
 * Adds one counter's increases into `into` (indexed by grid interval) and marks the intervals where
 * it had a sample in `seen`. A drop in value is a counter reset (the process restarted): the new
 * value is the increase since the reset. A series whose first sample falls inside the grid was born
 * there (a new pod), so its counter started from zero.
 */
function accumulate(series: CounterSeries, grid: Grid, into: Float64Array, seen?: Uint8Array): void {
  let previous: number | undefined;
  for (const [ts, value] of series.samples) {
    if (!Number.isFinite(value)) continue;
    const i = intervalIndex(ts, grid, into.length);
    if (ts <= grid.start) {
      previous = value;
      continue;
    }
    if (i < 0) break;
    const increase = previous === undefined || value < previous ? value : value - previous;
    into[i] = (into[i] ?? 0) + increase;
    if (seen) seen[i] = 1;
    previous = value;
  }
}

/** Converts raw counters into per-interval counts on the grid. */
export function alignSeries(raw: RawServiceSeries, grid: Grid): AlignedSeries {
  const count = Math.max(0, Math.floor((grid.end - grid.start) / grid.stepMs));
  const requests = new Float64Array(count);
  const errors = new Float64Array(count);
  const seen = new Uint8Array(count);
  for (const s of raw.requests) accumulate(s, grid, requests, seen);
  for (const s of raw.errors) accumulate(s, grid, errors);

  const bounds = [...new Set(raw.latency.map((b) => b.le))].sort((a, b) => a - b);
  const perBound = bounds.map(() => new Float64Array(count));
  const latencySeen = new Uint8Array(count);
  for (const s of raw.latency) {
    const target = perBound[bounds.indexOf(s.le)];
    if (target) accumulate(s, grid, target, latencySeen);
  }

  const intervals: IntervalCounts[] = [];
  for (let i = 0; i < count; i++) {
    if (seen[i] !== 1) continue;
    const req = requests[i] ?? 0;
    let latency: number[] | undefined;
    if (latencySeen[i] === 1) {
      // Buckets are cumulative; series that reset at different moments can break monotonicity.
      let running = 0;
      latency = perBound.map((b) => (running = Math.max(running, b[i] ?? 0)));
    }
    intervals.push({ end: grid.start + (i + 1) * grid.stepMs, requests: req, errors: Math.min(errors[i] ?? 0, req), latency });
  }
  return { namespace: raw.namespace, service: raw.service, stepMs: grid.stepMs, bounds, intervals };
}

/** Sums cumulative bucket counts over intervals. */
export function sumBuckets(intervals: readonly IntervalCounts[], size: number): number[] {
  const total = new Array<number>(size).fill(0);
  for (const iv of intervals) {
    if (!iv.latency) continue;
    for (let b = 0; b < size; b++) total[b] = (total[b] ?? 0) + (iv.latency[b] ?? 0);
  }
  return total;
}

/**
 * Quantile from cumulative bucket counts, interpolated linearly inside the bucket the way
 * Prometheus' histogram_quantile does. Undefined without observations.
 */
export function histogramQuantile(q: number, bounds: readonly number[], cumulative: readonly number[]): number | undefined {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0 || bounds.length === 0) return undefined;
  const rank = q * total;
  for (let b = 0; b < bounds.length; b++) {
    const cum = cumulative[b] ?? 0;
    if (cum < rank) continue;
    const upper = bounds[b] ?? Infinity;
    const lower = b === 0 ? 0 : (bounds[b - 1] ?? 0);
    if (upper === Infinity) return lower;
    const below = b === 0 ? 0 : (cumulative[b - 1] ?? 0);
    const inBucket = cum - below;
    return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : upper;
  }
  return bounds[bounds.length - 1];
}

/** Requests slower than `bounds[index]` in one interval (total minus the bucket's cumulative count). */
export function slowerThan(iv: IntervalCounts, index: number): Counts | undefined {
  if (!iv.latency) return undefined;
  const total = iv.latency[iv.latency.length - 1] ?? 0;
  return { k: Math.max(0, total - (iv.latency[index] ?? 0)), n: total };
}

import type { BucketSeries, CounterSeries, RawServiceSeries } from '../../src/core/regression-series.js';

// Generated metric series for detection tests and the accuracy benchmark: a seeded RNG, traffic
// and error-share shapes over time, and the counters a scraped service would expose (request
// counters per status code and latency histogram buckets), with gaps and counter resets on demand.

/** mulberry32: small, fast, seedable; good enough for simulation, not for cryptography. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export function poisson(random: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 50) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(random)));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

export function binomial(random: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (n < 40) {
    let k = 0;
    for (let i = 0; i < n; i++) if (random() < p) k++;
    return k;
  }
  const mean = n * p;
  if (mean > 40 && n * (1 - p) > 40) {
    return Math.min(n, Math.max(0, Math.round(mean + Math.sqrt(mean * (1 - p)) * normal(random))));
  }
  if (p > 0.5) return n - binomial(random, n, 1 - p);
  // Exact inversion from 0 (expected mean + 1 steps).
  const q = 1 - p;
  const s = p / q;
  const a = (n + 1) * s;
  let r = q ** n;
  let u = random();
  let x = 0;
  while (u > r && x < n) {
    u -= r;
    x++;
    r *= a / x - s;
  }
  return x;
}

export const LATENCY_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Infinity];

/** Share of a log-normal latency (median m seconds, log-sd sigma) at or below x. */
function logNormalCdf(x: number, median: number, sigma: number): number {
  if (x === Infinity) return 1;
  const z = Math.log(x / median) / sigma;
  // Φ(z) via the logistic approximation is too coarse in the tail; use erf through Math functions.
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is adequate for generating latencies (not for p-values).
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return sign * y;
}

export interface ScenarioSpec {
  seed: number;
  namespace?: string;
  service?: string;
  /** Scrape interval (ms). */
  stepMs: number;
  /** First and last scrape (epoch ms). */
  start: number;
  end: number;
  /** Requests per second at time t. */
  rate: (t: number) => number;
  /** 5xx share at time t. */
  errorShare: (t: number) => number;
  /** Log-sd of per-interval multiplicative noise on the error share (extra-binomial noise); 0 = none. */
  noise?: number;
  /** Median latency (seconds) at time t; log-sd 0.5. Omit for no histogram. */
  latencyMedian?: (t: number) => number;
  /** Scrapes missing in these [from, to) ranges. */
  gaps?: readonly (readonly [number, number])[];
  /** Every counter restarts from zero at these times (a process restart). */
  resets?: readonly number[];
}

/**
 * Simulates the counters of one service scraped every `stepMs`. Within a scrape interval, traffic
 * and shares are integrated on 5 sub-steps, so an onset inside an interval affects it partially,
 * as it would in reality.
 */
export function generateSeries(spec: ScenarioSpec): RawServiceSeries {
  const random = rng(spec.seed);
  const sub = 5;
  const dt = spec.stepMs / sub;
  let ok = 1000 + Math.floor(random() * 100000);
  let failed = Math.floor(ok * 0.001);
  const buckets = LATENCY_BOUNDS.map(() => 0);
  const okSamples: [number, number][] = [];
  const errSamples: [number, number][] = [];
  const bucketSamples: [number, number][][] = LATENCY_BOUNDS.map(() => []);
  const resets = [...(spec.resets ?? [])].sort((a, b) => a - b);
  const inGap = (t: number) => (spec.gaps ?? []).some(([from, to]) => t >= from && t < to);

  for (let t = spec.start; t <= spec.end; t += spec.stepMs) {
    if (t > spec.start) {
      let intervalNoise = 1;
      if (spec.noise) intervalNoise = Math.exp(spec.noise * normal(random) - (spec.noise * spec.noise) / 2);
      for (let j = 0; j < sub; j++) {
        const at = t - spec.stepMs + (j + 0.5) * dt;
        const n = poisson(random, (spec.rate(at) * dt) / 1000);
        const e = binomial(random, n, Math.min(1, spec.errorShare(at) * intervalNoise));
        ok += n - e;
        failed += e;
        if (spec.latencyMedian) {
          let left = n;
          let below = 0;
          const median = spec.latencyMedian(at);
          LATENCY_BOUNDS.forEach((le, b) => {
            const cdf = logNormalCdf(le, median, 0.5);
            const inBucket = cdf >= 1 ? left : binomial(random, left, Math.min(1, (cdf - below) / Math.max(1e-12, 1 - below)));
            left -= inBucket;
            below = cdf;
            for (let c = b; c < LATENCY_BOUNDS.length; c++) buckets[c] = (buckets[c] ?? 0) + inBucket;
          });
        }
      }
    }
    while (resets.length > 0 && (resets[0] ?? Infinity) <= t) {
      resets.shift();
      ok = 0;
      failed = 0;
      buckets.fill(0);
    }
    if (inGap(t)) continue;
    okSamples.push([t, ok]);
    errSamples.push([t, failed]);
    LATENCY_BOUNDS.forEach((_, b) => bucketSamples[b]?.push([t, buckets[b] ?? 0]));
  }

  const namespace = spec.namespace ?? 'shop';
  const service = spec.service ?? 'checkout';
  const labels = (code: string) => ({ namespace, service, code });
  const errors: CounterSeries = { labels: labels('500'), samples: errSamples };
  const requests: CounterSeries[] = [{ labels: labels('200'), samples: okSamples }, errors];
  const latency: BucketSeries[] = spec.latencyMedian
    ? LATENCY_BOUNDS.map((le, b) => ({
        le,
        labels: { namespace, service, le: le === Infinity ? '+Inf' : String(le) },
        samples: bucketSamples[b] ?? [],
      }))
    : [];
  return { namespace, service, requests, errors: [errors], latency };
}

/** A step from `before` to `after` at `at`. */
export const step = (at: number, before: number, after: number) => (t: number) => (t < at ? before : after);

/** A linear ramp from `before` to `after` between `from` and `to`. */
export const ramp = (from: number, to: number, before: number, after: number) => (t: number) =>
  t <= from ? before : t >= to ? after : before + ((after - before) * (t - from)) / (to - from);

/** Daily traffic cycle around `mean` with relative amplitude `amplitude`, peaking at `peak`. */
export const diurnal = (mean: number, amplitude: number, peak: number) => (t: number) =>
  mean * (1 + amplitude * Math.cos((2 * Math.PI * (t - peak)) / 86_400_000));

/** A transient: `level` during [from, to), `base` otherwise. */
export const spike = (from: number, to: number, base: number, level: number) => (t: number) =>
  t >= from && t < to ? level : base;

import type { CounterSeries, RawServiceSeries } from '../../src/core/regression-series.js';
import { binomial, normal, poisson, rng } from './metric-scenarios.js';

// Scrapes of a service whose 5xx share steps from p0 to p1 at an exact instant, for locating an
// onset inside a scrape interval: each interval's requests arrive uniformly, so the share of them
// after the onset is drawn exactly (no sub-step rounding that could move the onset across a deploy).

export interface StepScrapesSpec {
  seed: number;
  service?: string;
  scrapeMs: number;
  /** First and last scrape (epoch ms); scrapes fall every `scrapeMs` from `first`. */
  first: number;
  end: number;
  /** Requests per second. */
  rate: number;
  p0: number;
  p1: number;
  /** When the share stepped up; undefined for none. */
  onset: number | undefined;
  /** Log-sd of a per-interval multiplicative noise on the share (0: binomial only). */
  noise?: number;
}

export function stepScrapes(spec: StepScrapesSpec): RawServiceSeries {
  const random = rng(spec.seed);
  let ok = 5000;
  let failed = 10;
  const okSamples: [number, number][] = [[spec.first, ok]];
  const errSamples: [number, number][] = [[spec.first, failed]];
  for (let t = spec.first + spec.scrapeMs; t <= spec.end; t += spec.scrapeMs) {
    const from = t - spec.scrapeMs;
    const n = poisson(random, (spec.rate * spec.scrapeMs) / 1000);
    const onset = spec.onset ?? Infinity;
    const afterShare = Math.min(1, Math.max(0, (t - Math.max(from, onset)) / spec.scrapeMs));
    const nAfter = binomial(random, n, afterShare);
    const factor = spec.noise ? Math.exp(spec.noise * normal(random) - (spec.noise * spec.noise) / 2) : 1;
    const k = binomial(random, n - nAfter, Math.min(1, spec.p0 * factor)) + binomial(random, nAfter, Math.min(1, spec.p1 * factor));
    ok += n - k;
    failed += k;
    okSamples.push([t, ok]);
    errSamples.push([t, failed]);
  }
  const labels = (code: string) => ({ namespace: 'shop', service: spec.service ?? 'checkout', code });
  const errors: CounterSeries = { labels: labels('500'), samples: errSamples };
  return { namespace: 'shop', service: spec.service ?? 'checkout', requests: [{ labels: labels('200'), samples: okSamples }, errors], errors: [errors], latency: [] };
}

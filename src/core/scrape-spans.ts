import type { CounterSeries, RawServiceSeries } from './regression-series.js';

// Counts between consecutive scrapes, on the scrapes' own timestamps: the finest a counter can be
// read. The detector's grid puts each sample in the step it falls in, which is enough to find a
// regression but not to say on which side of a deploy inside that step it began; that needs the
// true span (previous scrape, this scrape] each increase covers (see onset-in-step.ts).

/** Requests and 5xx counted between two scrapes: the span (from, to], epoch ms. */
export interface ScrapeSpan {
  from: number;
  to: number;
  requests: number;
  errors: number;
}

interface Increase {
  from: number | undefined;
  to: number;
  value: number;
}

/**
 * Increases of one counter up to `now`. The first sample of a series that appears after the
 * others began (a new pod, or a status code's first response) counted from zero since some time
 * after the previous scrape: its span start is left undefined, for the caller to fill in. A
 * series already present at `edge` has no reference for its first sample, which is skipped.
 */
function increases(series: CounterSeries, now: number, edge: number, gap: number): Increase[] {
  const out: Increase[] = [];
  let previous: readonly [number, number] | undefined;
  for (const [ts, value] of series.samples) {
    if (ts > now) break;
    if (!Number.isFinite(value)) continue;
    if (previous === undefined) {
      if (ts >= edge + gap) out.push({ from: undefined, to: ts, value });
    } else {
      out.push({ from: previous[0], to: ts, value: value < previous[1] ? value : value - previous[1] });
    }
    previous = [ts, value];
  }
  return out;
}

/** The median time between consecutive samples of the request counters (the scrape interval). */
export function scrapeInterval(series: RawServiceSeries): number | undefined {
  const gaps: number[] = [];
  for (const s of series.requests) {
    for (let i = 1; i < s.samples.length; i++) gaps.push((s.samples[i]?.[0] ?? 0) - (s.samples[i - 1]?.[0] ?? 0));
  }
  gaps.sort((a, b) => a - b);
  return gaps.length > 0 ? gaps[Math.floor(gaps.length / 2)] : undefined;
}

/**
 * Every span between consecutive scrapes up to `now`, summed over the series that share it (the
 * counters of one target are scraped together), in time order. A counter born between scrapes is
 * given the span of its target's other counters ending at the same scrape, or one scrape interval.
 */
export function scrapeSpans(series: RawServiceSeries, now: number): ScrapeSpan[] {
  const gap = scrapeInterval(series);
  if (gap === undefined || gap <= 0) return [];
  const edge = Math.min(...series.requests.map((s) => s.samples[0]?.[0] ?? Infinity));
  const requests = series.requests.flatMap((s) => increases(s, now, edge, gap));
  const errors = series.errors.flatMap((s) => increases(s, now, edge, gap));
  const startOf = new Map<number, number>();
  for (const r of requests) if (r.from !== undefined) startOf.set(r.to, r.from);
  const spans = new Map<string, ScrapeSpan>();
  const add = (inc: Increase, field: 'requests' | 'errors') => {
    const from = inc.from ?? startOf.get(inc.to) ?? inc.to - gap;
    const key = `${String(from)}:${String(inc.to)}`;
    const span = spans.get(key) ?? { from, to: inc.to, requests: 0, errors: 0 };
    span[field] += inc.value;
    spans.set(key, span);
  };
  for (const r of requests) add(r, 'requests');
  for (const e of errors) add(e, 'errors');
  return [...spans.values()].map((s) => ({ ...s, errors: Math.min(s.errors, s.requests) })).sort((a, b) => a.to - b.to || a.from - b.from);
}

import { median } from '../stats.js';

// How much the webhook's resident set grew over a phase's second half (issue 17: "< 10% over the
// last 5 minutes"). Growth is what stays: the median of the half's last window against the median
// of its first, so a transient peak that is given back (one 3 MiB body, a GC cycle) is not growth
// while a steady climb is. The peak is reported beside it.

export interface RssSample {
  /** ms from the start of the phase. */
  t: number;
  bytes: number;
}

export interface RssGrowth {
  /** The window at each end of the half, ms. */
  windowMs: number;
  /** Median of the first window of the second half, bytes. */
  startBytes: number;
  /** Median of the last window, bytes. */
  endBytes: number;
  /** (end − start) / start. */
  growth: number;
  /** (highest sample of the half − start) / start. */
  peak: number;
}

/** `windowMs` at each end of the half: 30 s for a 10-minute phase, a tenth of the phase when shorter. */
export function rssGrowth(samples: readonly RssSample[], phaseMs: number, windowMs = Math.min(30_000, phaseMs / 10)): RssGrowth {
  const half = samples.filter((s) => s.t >= phaseMs / 2);
  // A short phase may have no sample inside a window: then its nearest one, at that end of the half.
  const within = (inWindow: (s: RssSample) => boolean, nearest: RssSample | undefined): number[] => {
    const found = half.filter(inWindow);
    return (found.length > 0 ? found : nearest === undefined ? [] : [nearest]).map((s) => s.bytes);
  };
  const first = within((s) => s.t < phaseMs / 2 + windowMs, half[0]);
  const last = within((s) => s.t >= phaseMs - windowMs, half.at(-1));
  const startBytes = median(first);
  const endBytes = median(last);
  const highest = Math.max(...half.map((s) => s.bytes));
  return { windowMs, startBytes, endBytes, growth: (endBytes - startBytes) / startBytes, peak: (highest - startBytes) / startBytes };
}

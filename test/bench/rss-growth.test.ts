import { describe, expect, it } from 'vitest';
import { rssGrowth, type RssSample } from '../../bench/harden/rss-growth.js';

// The load part's RSS figure (issue 17: growth under 10% over the last 5 minutes): what stays, not a
// transient peak that is given back.

const MB = 2 ** 20;
/** One sample a second over a 600 s phase. */
const phase = (bytesAt: (t: number) => number): RssSample[] => Array.from({ length: 601 }, (_, i) => ({ t: i * 1000, bytes: bytesAt(i * 1000) }));

describe('F2 RSS growth over the second half of a load phase', () => {
  it('a transient peak that is given back is a peak, not growth', () => {
    const r = rssGrowth(phase((t) => (t >= 400_000 && t < 405_000 ? 130 * MB : 100 * MB)), 600_000);
    expect(r.growth).toBe(0);
    expect(r.peak).toBeCloseTo(0.3, 5);
    expect(r.startBytes).toBe(100 * MB);
  });

  it('a steady climb is growth: 100 → 130 MB over the half reads as about +30%', () => {
    const r = rssGrowth(phase((t) => (t < 300_000 ? 100 * MB : 100 * MB + ((t - 300_000) / 300_000) * 30 * MB)), 600_000);
    // Medians of the first and last 30 s: about 101.5 and 128.5 MB.
    expect(r.growth).toBeGreaterThan(0.25);
    expect(r.growth).toBeLessThan(0.3);
    expect(r.peak).toBeCloseTo(130 / (r.startBytes / MB) - 1, 5);
    expect(r.peak).toBeGreaterThan(r.growth);
  });

  it('one outlier inside a window does not move its median', () => {
    const r = rssGrowth(phase((t) => (t === 590_000 ? 200 * MB : 100 * MB)), 600_000);
    expect(r.growth).toBe(0);
  });

  it('a short phase with no sample inside a window takes the nearest one at that end', () => {
    const r = rssGrowth([{ t: 0, bytes: 90 * MB }, { t: 1300, bytes: 100 * MB }, { t: 1600, bytes: 110 * MB }], 2000);
    expect(r.startBytes).toBe(100 * MB);
    expect(r.endBytes).toBe(110 * MB);
    expect(r.growth).toBeCloseTo(0.1, 5);
  });
});

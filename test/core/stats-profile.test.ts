import { describe, expect, it } from 'vitest';
import { testMixedShare } from '../../src/core/stats-profile.js';

// R1's in-step test on counts: a count whose requests are part at the share before, part at the
// share after, both known only through their own counts.

const c = (k: number, n: number) => ({ k, n });

describe('R1 profile-likelihood test of a mixed count', () => {
  it.each([
    { name: 'far fewer errors than the mix gives, 20 req/s: lower', before: c(9, 9000), after: c(360, 1800), mixed: c(2, 300), mix: 0.8, lower: true, higher: false },
    { name: 'about what the mix gives: neither', before: c(9, 9000), after: c(360, 1800), mixed: c(47, 300), mix: 0.8, lower: false, higher: false },
    { name: 'far more errors than the mix gives: higher', before: c(9, 9000), after: c(360, 1800), mixed: c(58, 300), mix: 0.2, lower: false, higher: true },
    { name: '1000 req/s, 30% fewer errors: lower', before: c(450, 90_000), after: c(9000, 90_000), mixed: c(850, 15_000), mix: 0.8, lower: true, higher: false },
    { name: '2 req/s: too few to tell', before: c(1, 1200), after: c(12, 120), mixed: c(0, 30), mix: 0.5, lower: false, higher: false },
  ])('$name', ({ before, after, mixed, mix, lower, higher }) => {
    const t = testMixedShare(before, after, mixed, mix);
    expect(t.pLower < 0.001).toBe(lower);
    expect(t.pHigher < 0.001).toBe(higher);
  });

  it('an after share known from fewer requests leaves the same count less significant', () => {
    const precise = testMixedShare(c(9, 9000), c(1800, 9000), c(25, 300), 0.8);
    const rough = testMixedShare(c(9, 9000), c(36, 180), c(25, 300), 0.8);
    expect(rough.pLower).toBeGreaterThan(precise.pLower * 10);
  });

  it('F1 scrape-to-scrape noise (dispersion) weakens the evidence', () => {
    const args = [c(9, 9000), c(1800, 9000), c(25, 300), 0.8] as const;
    expect(testMixedShare(...args, 4).pLower).toBeGreaterThan(testMixedShare(...args).pLower);
  });
});

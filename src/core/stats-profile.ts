import { binomialLogLik } from './stats-binomial.js';
import type { Counts } from './stats-binomial.js';
import { studentUpperTail } from './stats-student.js';

// Profile-likelihood test of a count whose rate mixes two others: k of n requests, a share `mix` of
// them at rate p1 and the rest at p0, where p0 and p1 are known only through their own counts
// (before and after). The null fits all three with p0 and p1 shared; the alternative frees the
// mixed count's rate. The signed root of the likelihood ratio carries the uncertainty of both
// shares and the skew of small counts, which a normal approximation of the count misses: at a
// few dozen expected errors its lower tail is much too heavy, its upper tail too light.

export interface MixedShareTest {
  /** Signed root: > 0 when the mixed count is below what the null expects. */
  z: number;
  /** P-value of "the count is at least what p0 and p1 mixed at `mix` give" (few errors: lower). */
  pLower: number;
  /** P-value of "the count is at most that" (many errors: higher). */
  pHigher: number;
}

const EPS = 1e-12;
const clamp = (p: number): number => Math.min(1 - EPS, Math.max(EPS, p));
const xlogy = (x: number, y: number): number => (x === 0 ? 0 : x * Math.log(y));
const logLik = (c: Counts, p: number): number => xlogy(c.k, p) + xlogy(c.n - c.k, 1 - p);

/** Maximises the null's likelihood over (p0, p1) by Newton steps (the log-likelihood is concave). */
function nullFit(before: Counts, after: Counts, mixed: Counts, mix: number): number {
  let p0 = clamp(before.n > 0 ? before.k / before.n : 0.5);
  let p1 = clamp(after.n > 0 ? after.k / after.n : 0.5);
  const total = (a: number, b: number) => logLik(before, a) + logLik(after, b) + logLik(mixed, (1 - mix) * a + mix * b);
  let value = total(p0, p1);
  for (let i = 0; i < 100; i++) {
    const q = clamp((1 - mix) * p0 + mix * p1);
    const gq = mixed.k / q - (mixed.n - mixed.k) / (1 - q);
    const hq = mixed.k / (q * q) + (mixed.n - mixed.k) / ((1 - q) * (1 - q));
    const g0 = before.k / p0 - (before.n - before.k) / (1 - p0) + (1 - mix) * gq;
    const g1 = after.k / p1 - (after.n - after.k) / (1 - p1) + mix * gq;
    const h00 = before.k / (p0 * p0) + (before.n - before.k) / ((1 - p0) * (1 - p0)) + (1 - mix) ** 2 * hq;
    const h11 = after.k / (p1 * p1) + (after.n - after.k) / ((1 - p1) * (1 - p1)) + mix * mix * hq;
    const h01 = (1 - mix) * mix * hq;
    const det = h00 * h11 - h01 * h01;
    if (!(det > 0)) break;
    // Newton step on the (negated) Hessian, halved until it stays inside (0, 1) and does not lose.
    let d0 = (h11 * g0 - h01 * g1) / det;
    let d1 = (h00 * g1 - h01 * g0) / det;
    let moved = false;
    for (let h = 0; h < 40; h++) {
      const a = p0 + d0;
      const b = p1 + d1;
      if (a > 0 && a < 1 && b > 0 && b < 1) {
        const v = total(clamp(a), clamp(b));
        if (v >= value) {
          moved = Math.abs(a - p0) + Math.abs(b - p1) > 1e-15;
          p0 = clamp(a);
          p1 = clamp(b);
          value = v;
          break;
        }
      }
      d0 /= 2;
      d1 /= 2;
    }
    if (!moved) break;
  }
  return value;
}

/**
 * Tests the mixed count against p0 and p1 (shares known from `before` and `after`) mixed at `mix`
 * (the share of its requests at p1). `dispersion` ≥ 1 scales the statistic down for scrape-to-scrape
 * noise; when it is estimated from a few scrapes, `df` (their number less one) makes the reference
 * Student's t instead of the normal. A continuity correction of half an error moves the count
 * toward the null.
 */
export function testMixedShare(before: Counts, after: Counts, mixed: Counts, mix: number, dispersion = 1, df = Infinity): MixedShareTest {
  if (mixed.n <= 0 || before.n <= 0 || after.n <= 0) return { z: 0, pLower: 1, pHigher: 1 };
  const at = (k: number) => {
    const c = { k: Math.min(mixed.n, Math.max(0, k)), n: mixed.n };
    const g = 2 * (binomialLogLik(before) + binomialLogLik(after) + binomialLogLik(c) - nullFit(before, after, c, mix));
    return Math.sqrt(Math.max(0, g) / Math.max(1, dispersion));
  };
  const expected = mixed.n * ((1 - mix) * (before.k / before.n) + mix * (after.k / after.n));
  const lower = mixed.k + 0.5 < expected ? at(mixed.k + 0.5) : 0;
  const higher = mixed.k - 0.5 > expected ? at(mixed.k - 0.5) : 0;
  return { z: lower > 0 ? lower : -higher, pLower: studentUpperTail(lower, df), pHigher: studentUpperTail(higher, df) };
}

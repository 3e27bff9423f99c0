import { describe, expect, it } from 'vitest';
import { logGamma, studentUpperTail } from '../../src/core/stats-student.js';
import { normalUpperTail } from '../../src/core/stats-normal.js';

// Student's t tail, for the in-step test when its noise is estimated from a few scrapes (R1, F1).

describe("Student's t upper tail", () => {
  it.each([
    [12.706, 1, 0.025],
    [4.303, 2, 0.025],
    [22.327, 2, 0.001],
    [10.215, 3, 0.001],
    [7.173, 4, 0.001],
    [2.776, 4, 0.025],
    [3.169, 10, 0.005],
    [1.3253, 20, 0.1],
    [2.086, 20, 0.025],
  ])('P(T > %f) with %i degrees of freedom is %f (the tables)', (t, df, p) => {
    expect(studentUpperTail(t, df)).toBeCloseTo(p, 4);
  });

  it('df = 1 is the Cauchy tail, exactly', () => {
    for (const t of [0.3, 1, 5, 100]) expect(studentUpperTail(t, 1)).toBeCloseTo(0.5 - Math.atan(t) / Math.PI, 12);
  });

  it('is symmetric and tends to the normal tail', () => {
    expect(studentUpperTail(-2, 5)).toBeCloseTo(1 - studentUpperTail(2, 5), 12);
    expect(studentUpperTail(0, 3)).toBeCloseTo(0.5, 12);
    expect(studentUpperTail(3.5, 1e6)).toBeCloseTo(normalUpperTail(3.5), 6);
    expect(studentUpperTail(3.5, Infinity)).toBe(normalUpperTail(3.5));
  });

  it('keeps its relative precision far in the tail', () => {
    // For df = 2 the tail has a closed form: ½(1 − t/√(t² + 2)).
    const t = 400;
    const exact = 0.5 * (1 - t / Math.sqrt(t * t + 2));
    expect(studentUpperTail(t, 2) / exact).toBeCloseTo(1, 6);
  });

  it('log-gamma matches factorials', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 10);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 10);
  });
});

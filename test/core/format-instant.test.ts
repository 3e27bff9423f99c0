import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatInstant, parseInstant } from '../../src/core/duration.js';

// The stamps' time format: what toISOString writes, without ".000" when there are no milliseconds.
// formatInstant writes the years 1970–9999 by arithmetic; it must agree with Date everywhere.

const byDate = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const YEAR_10000 = Date.UTC(10000, 0, 1);

describe('formatInstant', () => {
  it('writes whole seconds without milliseconds, and milliseconds when there are any', () => {
    expect(formatInstant(Date.UTC(2026, 2, 2, 9, 0, 0))).toBe('2026-03-02T09:00:00Z');
    expect(formatInstant(Date.UTC(2026, 2, 2, 9, 0, 0, 250))).toBe('2026-03-02T09:00:00.250Z');
    expect(formatInstant(Date.UTC(2026, 2, 2, 9, 0, 0, 7))).toBe('2026-03-02T09:00:00.007Z');
    expect(formatInstant(0)).toBe('1970-01-01T00:00:00Z');
  });

  it('agrees with Date on leap days, century years, month and year ends, and the last instant it writes itself', () => {
    const edges = [
      Date.UTC(2000, 1, 29), Date.UTC(2000, 2, 1), Date.UTC(1900 + 200, 1, 28, 23, 59, 59, 999), Date.UTC(2100, 2, 1), Date.UTC(2024, 1, 29, 12),
      Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2001, 0, 1), Date.UTC(2400, 1, 29), YEAR_10000 - 1, YEAR_10000, 1, 86_399_999, 86_400_000,
    ];
    for (const ms of edges) expect(formatInstant(ms), String(ms)).toBe(byDate(ms));
  });

  it('agrees with Date for every instant, and what it writes reads back to the same instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: YEAR_10000 + 86_400_000 }), (ms) => {
        const text = formatInstant(ms);
        expect(text).toBe(byDate(ms));
        expect(parseInstant(text)).toBe(ms);
      }),
      { numRuns: 20_000 },
    );
  });

  it('leaves what the arithmetic does not cover to Date: before 1970, fractions of a millisecond, six-digit years', () => {
    for (const ms of [-1, -86_400_001, Date.UTC(1969, 6, 20, 20, 17), 1.5, 1_700_000_000_000.9, YEAR_10000 + 1234, -62_198_755_200_000]) expect(formatInstant(ms), String(ms)).toBe(byDate(ms));
    expect(() => formatInstant(Number.NaN)).toThrow(RangeError);
  });
});

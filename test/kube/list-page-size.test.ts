import { describe, expect, it } from 'vitest';
import { FIRST_PAGE_SIZE, MAX_PAGE_SIZE, MIN_PAGE_SIZE, nextPageSize, PAGE_BYTES } from '../../src/kube/list-objects.js';

// The objects asked for per list page follow the size of the objects of the page before, so every
// page is about PAGE_BYTES of JSON: full Deployments come a few dozen at a time, metadata hundreds.

describe('list pages fitted to the objects', () => {
  it('asks for about PAGE_BYTES of the objects just seen', () => {
    expect(nextPageSize(50 * 8800, 50)).toBe(Math.floor(PAGE_BYTES / 8800));
    expect(nextPageSize(50 * 1000, 50)).toBe(Math.floor(PAGE_BYTES / 1000));
    expect(nextPageSize(50 * 8800, 50)).toBeLessThan(nextPageSize(50 * 1000, 50));
  });

  it('stays between the smallest and the largest page', () => {
    expect(nextPageSize(10 * 5_000_000, 10)).toBe(MIN_PAGE_SIZE);
    expect(nextPageSize(100 * 50, 100)).toBe(MAX_PAGE_SIZE);
  });

  it('starts again from the first page size after an empty page', () => {
    expect(nextPageSize(0, 0)).toBe(FIRST_PAGE_SIZE);
    expect(nextPageSize(120, 0)).toBe(FIRST_PAGE_SIZE);
  });
});

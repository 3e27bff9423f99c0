import type { Coverage } from './decision-types.js';

// F1: what a producer says about the completeness of what it sees, with its reason where it has one.

export function isCovered(c: Coverage): boolean {
  return typeof c === 'boolean' ? c : c.known;
}

export function coverageEvidence(c: Coverage): string | undefined {
  return typeof c === 'boolean' ? undefined : c.evidence;
}

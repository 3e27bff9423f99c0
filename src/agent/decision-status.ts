import type { DecisionRecord } from './decision-record.js';

// How a decision's state reads to a person, the same in every people-facing channel.

const TITLES: Record<string, string> = {
  'rolled-back': 'Rolled back by rollguard',
  applied: 'Rollback applied',
  dismissed: 'Dismissed',
  expired: 'Expired',
  superseded: 'Superseded',
  'rollback-failed': 'Rollback failed',
  closed: 'Closed',
};

export function stateTitle(record: Pick<DecisionRecord, 'state' | 'decision'>): string {
  if (record.state === 'open') return record.decision.verdict === 'auto' ? 'Rolling back' : 'Rollback needs a human';
  return TITLES[record.state] ?? record.state;
}

/** Anything but open: nobody can act on it any more, and people are told the outcome once. */
export function isFinal(record: Pick<DecisionRecord, 'state'>): boolean {
  return record.state !== 'open';
}

/** `${pageUrl}/decisions/${id}`, or undefined when no page URL is configured. */
export function decisionUrl(pageUrl: string | undefined, id: string): string | undefined {
  return pageUrl === undefined ? undefined : `${pageUrl.replace(/\/+$/, '')}/decisions/${encodeURIComponent(id)}`;
}

const OUTCOMES = new Set(['rolled-back', 'applied', 'rollback-failed']);

/**
 * Whether this state deserves a message where none was sent for the decision yet: an open decision
 * and an outcome people must know of do; the end of a decision nobody was shown does not.
 */
export function opensAMessage(record: Pick<DecisionRecord, 'state'>): boolean {
  return record.state === 'open' || OUTCOMES.has(record.state);
}

import type { DecisionRecord } from './decision-record.js';

// A newer decision for the same Deployment supersedes the open one before it (the store marks it,
// without publishing). A channel that shows decisions learns of it here, from the newer one, so
// the older message is updated ("superseded") instead of left looking actionable.

const MAX_DEPLOYMENTS = 5000;

export class SupersedeTracker {
  private readonly latest = new Map<string, DecisionRecord>();

  /** Notes a decision's state; returns the older open decision it supersedes, marked superseded. */
  note(record: DecisionRecord): DecisionRecord | undefined {
    const key = `${record.namespace}/${record.deployment}`;
    const previous = this.latest.get(key);
    // An update of an older decision (applied late, expired) must not make it the latest again.
    if (previous !== undefined && previous.id !== record.id && record.firstDecidedAt < previous.firstDecidedAt) return undefined;
    this.latest.delete(key);
    this.latest.set(key, record);
    if (this.latest.size > MAX_DEPLOYMENTS) this.latest.delete(this.latest.keys().next().value ?? '');
    if (previous === undefined || previous.id === record.id || previous.state !== 'open') return undefined;
    return { ...previous, state: 'superseded', stateReason: `superseded by decision ${record.id}` };
  }
}

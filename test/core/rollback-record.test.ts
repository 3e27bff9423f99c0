import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { rollbackRecord, type RollbackRecordInput } from '../../src/core/rollback-record.js';
import { min } from '../support/builders.js';

const AGENT = 'system:serviceaccount:rollguard:rollguard-agent';
const TARGET = { hash: 'sha256:00000000000000000001', at: min(-90) };

function input(over: Partial<RollbackRecordInput> = {}): RollbackRecordInput {
  return { returnedTo: TARGET, at: min(0), requester: 'alice', blackoutMs: 10 * 60_000, trustedWriter: false, requestedRolledBackAt: undefined, oldRolledBackAt: undefined, ...over };
}

describe('R8 every rollback is recorded at admission', () => {
  it('a human rollback: now, the requester, why, and the blackout from the policy', () => {
    const r = rollbackRecord(input());
    expect(r.type).toBe('stamp');
    if (r.type !== 'stamp') return;
    expect(Object.fromEntries(r.stamps)).toEqual({
      [ANNOTATIONS.rolledBackAt.key]: '2026-03-02T10:00:00Z',
      [ANNOTATIONS.rolledBackBy.key]: 'alice',
      [ANNOTATIONS.rollbackReason.key]: `the pod template returned to the one admitted at 2026-03-02T08:30:00Z (${TARGET.hash})`,
      [ANNOTATIONS.blackoutUntil.key]: '2026-03-02T10:10:00Z',
    });
  });

  it('says so when the earlier template predates rollguard’s times, and never leaves who empty', () => {
    const r = rollbackRecord(input({ returnedTo: { hash: TARGET.hash, at: undefined }, requester: undefined, blackoutMs: 5 * 60_000 }));
    if (r.type !== 'stamp') throw new Error(r.type);
    expect(r.stamps.get(ANNOTATIONS.rollbackReason.key)).toBe(`the pod template returned to an earlier one (${TARGET.hash}), admitted before rollguard recorded admission times`);
    expect(r.stamps.get(ANNOTATIONS.rolledBackBy.key)).toBe('unknown');
    expect(r.stamps.get(ANNOTATIONS.blackoutUntil.key)).toBe('2026-03-02T10:05:00Z');
  });

  it.each([
    ['not a rollback (a template never seen)', input({ returnedTo: undefined }), 'none'],
    ['the agent with its own record, new in this request', input({ trustedWriter: true, requester: AGENT, requestedRolledBackAt: '2026-03-02T10:00:00Z' }), 'agent'],
    ['the agent without a record of its own', input({ trustedWriter: true, requester: AGENT }), 'stamp'],
    ['the agent, its rolled-back-at only carried over from before', input({ trustedWriter: true, requester: AGENT, requestedRolledBackAt: '2026-03-02T09:00:00Z', oldRolledBackAt: '2026-03-02T09:00:00Z' }), 'stamp'],
    ['a user who is not trusted, writing a record of their own', input({ requestedRolledBackAt: '2026-03-01T00:00:00Z' }), 'stamp'],
  ])('%s: %s', (_label, i, type) => {
    expect(rollbackRecord(i).type).toBe(type);
  });
});

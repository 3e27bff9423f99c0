import { describe, expect, it } from 'vitest';
import { checkAuditEvent } from '../../src/timeline/audit-event.js';
import { ReplicaSetRevisions, replicaSetsAt } from '../../src/timeline/audit-replicasets.js';
import { at, auditEvent } from '../fixtures/audit/builders.js';

// The ReplicaSets of an audit log for the split by revision (R1, R2): owner and revision from the
// write's body, as of the time of a decision (no hindsight), nothing guessed without a body (F1).

function write(name: string, revision: string | undefined, minute: number, opts: { owner?: string; verb?: 'create' | 'update' | 'patch' | 'delete'; level?: 'Metadata' | 'Request' } = {}) {
  const object = {
    metadata: {
      name,
      namespace: 'shop',
      annotations: revision === undefined ? {} : { 'deployment.kubernetes.io/revision': revision },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: opts.owner ?? 'checkout', controller: true }],
    },
  };
  const e = checkAuditEvent(auditEvent({ verb: opts.verb ?? 'create', resource: 'replicasets', namespace: 'shop', name, at: at(minute), level: opts.level ?? 'Request', requestObject: object, responseObject: object }));
  if (typeof e === 'string') throw new Error(e);
  return e;
}

function seen(...items: ReturnType<typeof write>[]) {
  const revisions = new ReplicaSetRevisions();
  for (const item of items) expect(revisions.take(item)).toBe(true);
  return revisions.result();
}

describe('R1 R2 ReplicaSet revisions from the audit log', () => {
  it('each ReplicaSet of a Deployment with the revision it held at the time asked, records in any order', () => {
    const log = seen(write('checkout-b', '2', 10), write('checkout-a', '1', 0), write('checkout-a', '3', 20, { verb: 'update' }), write('other-c', '1', 5, { owner: 'other' }));
    expect(replicaSetsAt(log, 'shop', 'checkout', at(15))).toEqual([
      { name: 'checkout-a', revision: 1 },
      { name: 'checkout-b', revision: 2 },
    ]);
    // A rollback to checkout-a gives it revision 3: as of then it is the newest.
    expect(replicaSetsAt(log, 'shop', 'checkout', at(25))).toContainEqual({ name: 'checkout-a', revision: 3 });
    expect(replicaSetsAt(log, 'shop', 'checkout', at(5))).toEqual([{ name: 'checkout-a', revision: 1 }]);
    expect(replicaSetsAt(log, 'shop', 'other', at(25))).toEqual([{ name: 'other-c', revision: 1 }]);
  });

  it('F1 a write without a body, without a revision or with a deletion tells nothing', () => {
    expect(seen(write('checkout-a', '1', 0, { level: 'Metadata' }), write('checkout-b', undefined, 1), write('checkout-c', 'x', 2), write('checkout-d', '4', 3, { verb: 'delete' }))).toEqual([]);
  });

  it('records about anything else are not taken', () => {
    const e = checkAuditEvent(auditEvent({ verb: 'create', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(0) }));
    if (typeof e === 'string') throw new Error(e);
    expect(new ReplicaSetRevisions().take(e)).toBe(false);
  });
});

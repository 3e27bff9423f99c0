import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decisionCoverage } from '../../src/core/audit-coverage.js';
import { AUDIT_LEVELS, evaluateAuditPolicy, type AuditPolicy, type AuditPolicyRule, type AuditRequest } from '../../src/core/audit-policy.js';
import { decide } from '../../src/core/decide.js';
import { cleanInput } from '../support/scenario.js';

// F1: random audit policies around the clean incident of shop/checkout (which reads ConfigMap
// app-config and Secret db). An independent oracle tries every concrete write of a small universe
// (users, group sets, verbs, object names, covering every case a policy over this vocabulary can
// tell apart) against the plain per-request evaluation; when any write the decision depends on
// would not reach the log, the decision must not be `auto`, and when none is dropped, it must be.

const USERS = ['alice', 'bob', 'carol'];
const GROUP_SETS = ['system:authenticated', 'system:unauthenticated'].flatMap((base) => [[base], [base, 'devs'], [base, 'system:masters']]);
const VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'] as const;

const sub = <T>(values: readonly T[]) => fc.subarray([...values]);
const resourceForms = fc.constantFrom(
  { group: '', resources: ['configmaps'], resourceNames: [] },
  { group: '', resources: ['secrets'], resourceNames: ['db'] },
  { group: '', resources: ['configmaps', 'secrets'], resourceNames: [] },
  { group: '', resources: ['*'], resourceNames: [] },
  { group: '', resources: [], resourceNames: [] },
  { group: 'batch', resources: ['jobs'], resourceNames: [] },
  { group: 'batch', resources: ['jobs/*'], resourceNames: [] },
  { group: 'batch', resources: ['*/status'], resourceNames: [] },
  { group: 'apps', resources: ['deployments', 'deployments/status'], resourceNames: [] },
  { group: 'apps', resources: ['*'], resourceNames: ['checkout'] },
);
const rule: fc.Arbitrary<AuditPolicyRule> = fc.record({
  level: fc.constantFrom(...AUDIT_LEVELS),
  users: fc.oneof({ arbitrary: fc.constant([]), weight: 3 }, { arbitrary: sub(['alice', 'bob']), weight: 1 }),
  userGroups: fc.oneof({ arbitrary: fc.constant([]), weight: 3 }, { arbitrary: sub(['devs', 'system:authenticated', 'system:masters']), weight: 1 }),
  verbs: fc.oneof({ arbitrary: fc.constant([]), weight: 2 }, { arbitrary: sub(VERBS), weight: 1 }),
  resources: fc.oneof({ arbitrary: fc.constant([]), weight: 1 }, { arbitrary: fc.array(resourceForms, { minLength: 1, maxLength: 2 }), weight: 3 }),
  namespaces: fc.oneof({ arbitrary: fc.constant([]), weight: 3 }, { arbitrary: sub(['shop', 'other', '']), weight: 1 }),
  nonResourceURLs: fc.constant([]),
  omitStages: fc.oneof({ arbitrary: fc.constant([]), weight: 4 }, { arbitrary: fc.constant(['ResponseComplete' as const]), weight: 1 }),
});
// Mostly a catch-all at the end, so that fully covered policies (the `auto` side) come up too.
const policy: fc.Arbitrary<AuditPolicy> = fc
  .record({ rules: fc.array(rule, { minLength: 1, maxLength: 5 }), catchAll: fc.constantFrom<AuditPolicyRule['level'] | undefined>('RequestResponse', 'Request', 'Metadata', undefined) })
  .map(({ rules, catchAll }) => ({
    omitStages: [],
    rules: catchAll === undefined ? rules : [...rules, { level: catchAll, users: [], userGroups: [], verbs: [], resources: [], namespaces: [], nonResourceURLs: [], omitStages: [] }],
  }));

interface Write {
  group: string;
  resource: string;
  subresource: string | undefined;
  names: string[];
  verbs: readonly string[];
  minimum: 'Metadata' | 'Request';
}
/** Every kind of write the decision depends on; Job creates must carry the object (R4). */
const DEPENDS_ON: Write[] = [
  { group: '', resource: 'configmaps', subresource: undefined, names: ['app-config'], verbs: VERBS, minimum: 'Metadata' },
  { group: '', resource: 'secrets', subresource: undefined, names: ['db'], verbs: VERBS, minimum: 'Metadata' },
  { group: 'batch', resource: 'jobs', subresource: undefined, names: ['db-migrate', 'other'], verbs: VERBS, minimum: 'Metadata' },
  { group: 'batch', resource: 'jobs', subresource: undefined, names: [''], verbs: ['create'], minimum: 'Request' },
  { group: 'batch', resource: 'jobs', subresource: 'status', names: ['db-migrate', 'other'], verbs: ['update', 'patch'], minimum: 'Metadata' },
  { group: 'apps', resource: 'deployments', subresource: undefined, names: ['checkout'], verbs: VERBS, minimum: 'Metadata' },
  { group: 'apps', resource: 'deployments', subresource: 'status', names: ['checkout'], verbs: ['update', 'patch'], minimum: 'Metadata' },
];

/** A concrete write that would not reach the log (at the level needed), if any. */
function droppedWrite(p: AuditPolicy): AuditRequest | undefined {
  for (const w of DEPENDS_ON)
    for (const verb of w.verbs)
      for (const name of verb === 'create' || verb === 'deletecollection' ? [''] : w.names)
        for (const user of USERS)
          for (const groups of GROUP_SETS) {
            const r: AuditRequest = { namespace: 'shop', group: w.group, resource: w.resource, subresource: w.subresource, verb, name, user, groups };
            const d = evaluateAuditPolicy(p, r);
            if (!d.logged || AUDIT_LEVELS.indexOf(d.level) < AUDIT_LEVELS.indexOf(w.minimum)) return r;
          }
  return undefined;
}

function decisionUnder(p: AuditPolicy) {
  const { coverage, doubts } = decisionCoverage(p, { namespace: 'shop', name: 'checkout' }, [
    { resource: 'configmaps', name: 'app-config' },
    { resource: 'secrets', name: 'db' },
  ]);
  return decide(cleanInput({ coverage, doubts }));
}

describe('F1 audit-policy coverage never turns a dropped write into auto', () => {
  it('F1: a policy that drops any ConfigMap, Secret, Job or Deployment write the decision depends on never yields auto; one that drops none does', () => {
    let dropped = 0;
    let covered = 0;
    fc.assert(
      fc.property(policy, (p) => {
        const witness = droppedWrite(p);
        const verdict = decisionUnder(p).verdict;
        if (witness !== undefined) {
          dropped++;
          expect(verdict, JSON.stringify(witness)).not.toBe('auto');
        } else {
          covered++;
          expect(verdict).toBe('auto');
        }
      }),
      { numRuns: 1500, seed: 20261202 },
    );
    // Both sides of the property were exercised.
    expect(dropped).toBeGreaterThan(300);
    expect(covered).toBeGreaterThan(50);
  });
});

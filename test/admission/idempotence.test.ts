import fc from 'fast-check';
import fjp from 'fast-json-patch';
import { beforeAll, describe, expect, it } from 'vitest';
import { ANNOTATIONS, ROLLGUARD_OWNED_KEYS } from '../../src/core/annotations.js';
import { mutate, type MutateDeps } from '../../src/admission/mutate.js';
import { DEFAULT_POLICY_SET, resolver } from '../../src/policy/policy-file.js';
import type { AdmissionRequest } from '../../src/admission/review.js';
import { InMemoryStampCache } from '../../src/stamps/stamp-cache.js';
import { fixture, type Review } from './harness.js';

// Properties of the mutating answer over arbitrary annotations on object and oldObject: the patch
// applies, every rollguard-owned key ends as rollguard decided (never as the client forged it), and
// reinvocation with the result gives an empty patch.

const NOW = Date.parse('2026-03-02T10:05:00Z');
const FIXTURES = ['deployment-update-image', 'deployment-rollout-undo', 'deployment-server-side-apply', 'deployment-create', 'configmap-create', 'secret-update', 'job-create'];
const K = (n: keyof typeof ANNOTATIONS): string => ANNOTATIONS[n].key;
const STAMPED_BY_KIND: Record<string, string[]> = {
  // The rollback record too: deployment-rollout-undo returns to a template in the history (R8).
  Deployment: [K('templateChangedAt'), K('templateHash'), K('templateHistory'), K('changeSet'), K('changeSetReasons'), K('eligibility'), K('eligibilityReasons'), K('rolledBackAt'), K('rolledBackBy'), K('rollbackReason'), K('blackoutUntil')],
  ConfigMap: [K('contentChangedAt'), K('createdAt')],
  Secret: [K('contentChangedAt'), K('createdAt')],
  Job: [K('admittedAt'), K('migrationDetected'), K('migrationReason')],
};
const deps: MutateDeps = { cache: new InMemoryStampCache(), policyFor: resolver(DEFAULT_POLICY_SET), trustedUsers: new Set(), ownNamespace: 'rollguard' };
const reviews = new Map<string, Review>();

beforeAll(async () => {
  for (const name of FIXTURES) reviews.set(name, await fixture(name));
});

type Meta = { metadata?: { annotations?: Record<string, string> } };

function apply(request: AdmissionRequest, now: number): { object: Record<string, unknown>; ops: fjp.Operation[] } {
  const result = mutate(request, deps, now);
  const ops = result.verdict.type === 'patch' ? [...result.verdict.ops] : [];
  const object = fjp.applyPatch(structuredClone(request.object) as Record<string, unknown>, ops, true, false).newDocument;
  return { object, ops };
}

const ownedKey = fc.constantFrom(...ROLLGUARD_OWNED_KEYS);
const anyKey = fc.oneof(ownedKey, fc.constantFrom('team', 'a/b', 'x~y', ANNOTATIONS.blackoutOverride.key), fc.string({ maxLength: 12 }));
const value = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('2026-03-02T10:04:59Z', '2026-03-02T10:04:59.500Z', '[]', 'eligible'));

describe('R12 mutating answers are idempotent and unforgeable', () => {
  it('for any annotations on object and oldObject', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIXTURES), fc.dictionary(anyKey, value), fc.dictionary(anyKey, value), fc.integer({ min: 0, max: 29_000 }), (name, newAnn, oldAnn, later) => {
        const review = structuredClone(reviews.get(name)) as Review;
        const object = review.request.object as Meta;
        object.metadata = { ...object.metadata, annotations: { ...object.metadata?.annotations, ...newAnn } };
        const old = review.request.oldObject as Meta | null;
        if (old) old.metadata = { ...old.metadata, annotations: { ...old.metadata?.annotations, ...oldAnn } };
        const request = review.request as unknown as AdmissionRequest;

        const first = apply(request, NOW);
        const final = (first.object as Meta).metadata?.annotations ?? {};
        const oldFinal = old?.metadata?.annotations ?? {};
        // An owned key differs from the stored value only where rollguard stamps this kind of change.
        const stampable = STAMPED_BY_KIND[(review.request.kind as { kind: string }).kind] ?? [];
        for (const key of ROLLGUARD_OWNED_KEYS) {
          if (final[key] !== oldFinal[key]) expect(stampable, `${name}: ${key} = ${String(final[key])}`).toContain(key);
        }
        const again = apply({ ...request, object: first.object }, NOW + later);
        expect(again.ops).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

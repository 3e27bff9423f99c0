import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { wellFormedEnvelope } from '../../src/admission/review-envelope.js';
import { parseReview, parseReviewWithSchema } from '../../src/admission/review.js';
import { fixture, mutateAt, type Review } from './harness.js';

// F5: the envelope of every review is checked by hand on the hot path and by the zod schema when
// the hand check does not recognise it. Both must give the same answer for every body: the same
// review when it is well formed, the same precise errors when it is not.

const FIXTURES = ['deployment-update-image', 'deployment-rollout-undo', 'deployment-server-side-apply', 'deployment-delete', 'deployment-create', 'deployment-scale', 'configmap-create', 'secret-update', 'job-create'];
const reviews = new Map<string, Review>();

beforeAll(async () => {
  for (const name of FIXTURES) reviews.set(name, await fixture(name));
});

const WRONG = [undefined, null, '', 'x', 'UPDATE', 'admission.k8s.io/v1', 0, 7, true, false, [], ['a'], [1], {}, { kind: 'Deployment' }, { group: '', version: 'v1', kind: '' }];

/** A fixture with one value somewhere in the envelope (or deeper) replaced, as JSON (a removed key is gone). */
const mutated = fc.tuple(fc.constantFrom(...FIXTURES), fc.array(fc.nat(40), { minLength: 1, maxLength: 4 }), fc.constantFrom(...WRONG)).map(([name, steps, value]) => JSON.parse(JSON.stringify(mutateAt(reviews.get(name), steps, value))) as unknown);

describe('F5 the hand-checked AdmissionReview envelope', () => {
  it('accepts every fixture as is, without the schema', () => {
    for (const [name, review] of reviews) {
      const checked = wellFormedEnvelope(review);
      expect(checked, name).toBeDefined();
      expect(checked?.request).toBe(review.request);
    }
  });

  it('answers as the schema does for 10,000 mutated reviews', () => {
    fc.assert(
      fc.property(mutated, (body) => {
        expect(parseReview(body)).toEqual(parseReviewWithSchema(body));
      }),
      { numRuns: 10_000 },
    );
  });

  it('answers as the schema does for arbitrary JSON in the request', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIXTURES), fc.constantFrom('uid', 'kind', 'resource', 'operation', 'userInfo', 'object', 'oldObject', 'dryRun', 'name', 'subResource'), fc.jsonValue(), (name, key, value) => {
        const body = structuredClone(reviews.get(name)) as Review;
        (body.request as Record<string, unknown>)[key] = value;
        expect(parseReview(body)).toEqual(parseReviewWithSchema(body));
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves a "__proto__" key to the schema, which drops it from its copy', () => {
    const text = JSON.stringify(reviews.get('configmap-create'));
    for (const body of [text.replace('"object":{', '"object":{"__proto__":{"metadata":{}},'), text.replace('"request":{', '"request":{"__proto__":{"uid":"x"},')]) {
      const parsed = JSON.parse(body) as Review;
      expect(wellFormedEnvelope(parsed)).toBeUndefined();
      expect(parseReview(parsed)).toEqual(parseReviewWithSchema(parsed));
    }
  });
});

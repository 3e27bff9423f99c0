import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReviewResponse } from '../../src/admission/response.js';
import { expectContract, fixture, mutateAt, startTestWebhook, type Review, type TestWebhook } from './harness.js';

// Whatever arrives, the server answers: a contract-valid AdmissionReview (HTTP 200) or a precise 4xx
// Status. It never crashes: after every run it still answers a well-formed review.

const NOW = Date.parse('2026-03-02T10:05:00Z');
const FIXTURES = ['deployment-update-image', 'deployment-rollout-undo', 'deployment-server-side-apply', 'deployment-delete', 'deployment-create', 'deployment-scale', 'configmap-create', 'secret-update', 'job-create'];

let hook: TestWebhook;
const reviews = new Map<string, Review>();
beforeAll(async () => {
  hook = await startTestWebhook({ now: NOW });
  for (const name of FIXTURES) reviews.set(name, await fixture(name));
});
afterAll(async () => {
  await hook.close();
});

async function expectValidAnswer(path: '/mutate' | '/validate', body: string, sent: unknown): Promise<void> {
  const res = await hook.post(path, body);
  if (res.status === 200) {
    expectContract(sent as Review, res.json as ReviewResponse);
  } else {
    expect([400, 413, 415]).toContain(res.status);
    expect(res.json).toMatchObject({ kind: 'Status', status: 'Failure', code: res.status });
    expect((res.json as { message: string }).message.length).toBeGreaterThan(10);
  }
}

const fixtureName = fc.constantFrom(...FIXTURES);
const path = fc.constantFrom('/mutate' as const, '/validate' as const);

describe('F5 fuzzed bodies and objects', () => {
  it('random bodies: a valid answer or a precise 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(path, fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), async (p, body) => {
        await expectValidAnswer(p, body, undefined);
      }),
      { numRuns: 120 },
    );
  });

  it('fixtures with a random value anywhere in the object, oldObject or envelope', async () => {
    await fc.assert(
      fc.asyncProperty(path, fixtureName, fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), fc.jsonValue(), async (p, name, steps, value) => {
        const sent = mutateAt(reviews.get(name), steps, value);
        await expectValidAnswer(p, JSON.stringify(sent), sent);
      }),
      { numRuns: 250 },
    );
  });

  it('annotations with hostile keys and values still give a patch that applies', async () => {
    const key = fc.oneof(fc.string(), fc.constantFrom('rollguard.io/template-hash', 'a/b~c', '~1', '__proto__', 'constructor', 'rollguard.io/blackout-until'));
    await fc.assert(
      fc.asyncProperty(path, fixtureName, fc.dictionary(key, fc.string()), fc.dictionary(key, fc.string()), async (p, name, newAnn, oldAnn) => {
        const review = structuredClone(reviews.get(name)) as Review;
        const object = review.request.object as { metadata?: { annotations?: Record<string, string> } } | null;
        if (object?.metadata) object.metadata.annotations = newAnn;
        const old = review.request.oldObject as { metadata?: { annotations?: Record<string, string> } } | null;
        if (old?.metadata) old.metadata.annotations = oldAnn;
        const body = JSON.stringify(review);
        await expectValidAnswer(p, body, JSON.parse(body));
      }),
      { numRuns: 150 },
    );
  });

  it('still answers a well-formed review afterwards', async () => {
    const answer = await hook.review('/mutate', await fixture('deployment-update-image'));
    expect(answer.response.allowed).toBe(true);
  });
});

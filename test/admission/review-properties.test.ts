import fc from 'fast-check';
import fjp from 'fast-json-patch';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Handler, HandlerResult } from '../../src/admission/app.js';
import { startProgress } from '../../src/admission/deadline.js';
import { DEFAULT_POLICY_SET, resolver } from '../../src/policy/policy-file.js';
import { toReviewResponse } from '../../src/admission/response.js';
import { parseReview, type AdmissionRequest } from '../../src/admission/review.js';
import { webhookHandlers } from '../../src/admission/server.js';
import { InMemoryStampCache } from '../../src/stamps/stamp-cache.js';
import { ANNOTATIONS, isRollguardKey, ROLLGUARD_OWNED_KEYS } from '../../src/core/annotations.js';
import { fixture, type Review } from './harness.js';

// F2 and R12 as properties, 10,000 runs each (issue 17): whatever the request, the handlers never
// throw and never deny outside the blackout guard; every patch applies to the request's object and
// changes nothing but rollguard's annotations; the uid is echoed; stamping the stamped object again
// changes nothing. In process (the handlers the HTTP route calls), so 10,000 runs take seconds;
// fuzz.test.ts sends the same kind of inputs through the real HTTPS server.

const RUNS = 10_000;
const NOW = Date.parse('2026-03-02T10:05:00Z');
const AGENT = 'system:serviceaccount:rollguard:rollguard-agent';
const FIXTURES = ['deployment-update-image', 'deployment-rollout-undo', 'deployment-server-side-apply', 'deployment-delete', 'deployment-create', 'deployment-scale', 'configmap-create', 'secret-update', 'job-create'];
const reviews = new Map<string, Review>();

beforeAll(async () => {
  for (const name of FIXTURES) reviews.set(name, await fixture(name));
});

function handlersWithFreshCache(): { mutate: Handler; validate: Handler } {
  const [mutate, validate] = webhookHandlers({ cache: new InMemoryStampCache(), policyFor: resolver(DEFAULT_POLICY_SET), trustedUsers: new Set([AGENT]), ownNamespace: 'rollguard' }) as [Handler, Handler];
  return { mutate, validate };
}

type Meta = { metadata?: { namespace?: string; annotations?: Record<string, string> } };

const annotationKey = fc.oneof(fc.constantFrom(...ROLLGUARD_OWNED_KEYS), fc.constantFrom('team', 'a/b', 'x~y', '~1', '__proto__', 'constructor', ANNOTATIONS.blackoutOverride.key), fc.string({ maxLength: 12 }));
const annotationValue = fc.oneof(fc.string({ maxLength: 24 }), fc.constantFrom('2026-03-02T10:04:59Z', '2026-03-02T10:11:00Z', 'rollguard-agent', '[]', 'eligible', '{"hash":"x"}'));
const annotations = fc.option(fc.dictionary(annotationKey, annotationValue, { maxKeys: 6 }), { nil: undefined });

/**
 * A request the apiserver could send (it decodes objects into their types first: annotations are
 * strings, volumes a list), varied in what rollguard reads: kind and operation (the fixtures),
 * namespace, user, annotations on both objects (forged and blackout keys among them), the image.
 * Bodies the apiserver would never send are fuzz.test.ts's and `npm run harden`'s.
 */
const request = fc
  .record({
    name: fc.constantFrom(...FIXTURES),
    namespace: fc.constantFrom('shop', 'kube-system', 'rollguard', 'team-a'),
    user: fc.constantFrom(AGENT, 'alice@example.com', undefined),
    objectAnnotations: annotations,
    oldAnnotations: annotations,
    image: fc.option(fc.constantFrom('shop/checkout:v1', 'shop/checkout:v2', 'x'), { nil: undefined }),
    dryRun: fc.boolean(),
  })
  .map((g): Review => {
    const review = structuredClone(reviews.get(g.name)) as Review;
    const r = review.request;
    r.namespace = g.namespace;
    r.dryRun = g.dryRun;
    r.userInfo = g.user === undefined ? {} : { username: g.user };
    for (const [obj, ann] of [[r.object, g.objectAnnotations], [r.oldObject, g.oldAnnotations]] as const) {
      const meta = (obj as Meta | null)?.metadata;
      if (meta === undefined) continue;
      meta.namespace = g.namespace;
      if (ann !== undefined) meta.annotations = ann;
    }
    const containers = (r.object as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } } | null)?.spec?.template?.spec?.containers;
    if (g.image !== undefined && containers?.[0] !== undefined) containers[0].image = g.image;
    return review;
  });

function asRequest(review: Review): AdmissionRequest {
  const parsed = parseReview(review);
  if (!parsed.ok) throw new Error(`generated an invalid review: ${parsed.errors.join('; ')}`);
  return parsed.review.request;
}

async function run(handler: Handler, review: Review): Promise<HandlerResult> {
  return handler.run(asRequest(review), NOW, startProgress());
}

function opsOf(result: HandlerResult): fjp.Operation[] {
  return result.verdict.type === 'patch' ? [...result.verdict.ops] : [];
}

/** The object without rollguard's annotations: what a patch must leave as it was. */
function withoutRollguardKeys(object: unknown): unknown {
  const copy = structuredClone(object) as Meta & Record<string, unknown>;
  const ann = copy.metadata?.annotations;
  if (ann !== undefined) {
    for (const key of Object.keys(ann)) if (isRollguardKey(key)) Reflect.deleteProperty(ann, key);
    if (Object.keys(ann).length === 0 && copy.metadata) delete copy.metadata.annotations;
  }
  return copy;
}

const settings = { numRuns: RUNS };

describe('F2 R12 review properties over 10,000 requests each', () => {
  it('F2 the handlers never throw, and deny only in the blackout guard (a Deployment update)', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (review) => {
        const { mutate, validate } = handlersWithFreshCache();
        const mutated = await run(mutate, review);
        expect(mutated.verdict.type).not.toBe('deny');
        const validated = await run(validate, review);
        if (validated.verdict.type === 'deny') {
          expect(review.request.operation).toBe('UPDATE');
          expect(review.request.kind).toMatchObject({ group: 'apps', kind: 'Deployment' });
          expect(validated.summary).toBe('rollback denied: blackout in force');
        }
      }),
      settings,
    );
  });

  it('R12 every patch applies to the request’s object and changes only rollguard’s annotations', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (review) => {
        const ops = opsOf(await run(handlersWithFreshCache().mutate, review));
        if (ops.length === 0) return;
        const before = review.request.object;
        const after = fjp.applyPatch(structuredClone(before), ops, true, false).newDocument;
        expect(withoutRollguardKeys(after)).toEqual(withoutRollguardKeys(before));
      }),
      settings,
    );
  });

  it('F2 the answer echoes the request’s uid and apiVersion, whatever the verdict', async () => {
    await fc.assert(
      fc.asyncProperty(request, fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('admission.k8s.io/v1', 'admission.k8s.io/v1beta1'), async (review, uid, apiVersion) => {
        review.request.uid = uid;
        review.apiVersion = apiVersion;
        const parsed = parseReview(review);
        if (!parsed.ok) throw new Error(parsed.errors.join('; '));
        const { mutate, validate } = handlersWithFreshCache();
        for (const handler of [mutate, validate]) {
          const answer = toReviewResponse(parsed.review, (await run(handler, review)).verdict);
          expect(answer.response.uid).toBe(uid);
          expect(answer.apiVersion).toBe(apiVersion);
        }
      }),
      settings,
    );
  });

  it('R12 stamping the stamped object again (a reinvocation) changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (review) => {
        const { mutate } = handlersWithFreshCache();
        const ops = opsOf(await run(mutate, review));
        const stamped = structuredClone(review);
        stamped.request.object = fjp.applyPatch(structuredClone(review.request.object), ops, true, false).newDocument;
        expect(opsOf(await run(mutate, stamped))).toEqual([]);
      }),
      settings,
    );
  });
});

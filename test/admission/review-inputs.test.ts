import { describe, expect, it } from 'vitest';
import { startProgress } from '../../src/admission/deadline.js';
import { mutate } from '../../src/admission/mutate.js';
import type { AdmissionRequest } from '../../src/admission/review.js';
import { mutateInputs, type StampSource } from '../../src/admission/review-inputs.js';
import type { Deployment } from '../../src/core/kube.js';
import { deployRefs } from '../../src/core/template-refs.js';
import { DEFAULT_POLICY_SET, resolver } from '../../src/policy/policy-file.js';
import { InMemoryStampCache } from '../../src/stamps/stamp-cache.js';
import { fixture } from './harness.js';

// The mutating handler's inputs, read ahead: a Deployment's templates' refs are read once and
// handed to the handler with the stamps they name, whether the stamp source answers at once (the
// in-memory cache) or later (a read through to the apiserver).

const NOW = Date.parse('2026-03-02T10:05:00Z');
const policyFor = resolver(DEFAULT_POLICY_SET);

function stampedCache(): InMemoryStampCache {
  const cache = new InMemoryStampCache();
  const at = Date.parse('2026-01-01T00:00:00Z');
  for (const [kind, name] of [['ConfigMap', 'checkout-config-7f9c'], ['Secret', 'checkout-db'], ['Secret', 'checkout-tls']] as const) cache.noteAdmitted('shop', kind, name, { createdAt: at, contentChangedAt: at });
  return cache;
}

/** The same cache answering every read with a promise. */
function later(cache: InMemoryStampCache): StampSource {
  return {
    lookup: (ns, kind, name) => Promise.resolve(cache.lookup(ns, kind, name)),
    synced: () => Promise.resolve(cache.synced()),
    noteAdmitted: (ns, kind, name, stamps) => {
      cache.noteAdmitted(ns, kind, name, stamps);
    },
  };
}

async function request(): Promise<AdmissionRequest> {
  return (await fixture('deployment-update-image')).request as unknown as AdmissionRequest;
}

describe('mutating review inputs', () => {
  it("hands the handler the refs of oldObject's and object's templates, as read once", async () => {
    const req = await request();
    const deps = await mutateInputs(req, { cache: stampedCache(), policyFor, trustedUsers: new Set(), ownNamespace: 'rollguard' }, startProgress());
    expect(deps.deployRefs).toEqual(deployRefs((req.oldObject as Deployment).spec?.template, (req.object as Deployment).spec?.template));
    expect(deps.deployRefs?.after.all.map((r) => r.name)).toEqual(['checkout-config-7f9c', 'checkout-db', 'checkout-tls']);
  });

  it('reads no refs for a request that stamps no Deployment', async () => {
    const req = (await fixture('configmap-create')).request as unknown as AdmissionRequest;
    const deps = await mutateInputs(req, { cache: stampedCache(), policyFor, trustedUsers: new Set(), ownNamespace: 'rollguard' }, startProgress());
    expect(deps.deployRefs).toBeUndefined();
  });

  it('gives the same stamps, and so the same answer, whether the stamp source answers at once or later', async () => {
    const answer = async (cache: StampSource) => {
      const req = await request();
      const deps = await mutateInputs(req, { cache, policyFor, trustedUsers: new Set(), ownNamespace: 'rollguard' }, startProgress());
      const refs = deps.deployRefs?.after.all ?? [];
      return { lookups: refs.map((r) => deps.cache.lookup('shop', r.kind, r.name)), synced: deps.cache.synced(), result: mutate(req, deps, NOW) };
    };
    const atOnce = await answer(stampedCache());
    expect(atOnce.lookups.map((l) => l.state)).toEqual(['present', 'present', 'present']);
    expect(await answer(later(stampedCache()))).toEqual(atOnce);
  });
});

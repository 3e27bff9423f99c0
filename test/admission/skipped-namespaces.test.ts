import { beforeAll, describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { mutate, type MutateDeps } from '../../src/admission/mutate.js';
import { DEFAULT_POLICY_SET, resolver } from '../../src/policy/policy-file.js';
import type { AdmissionRequest } from '../../src/admission/review.js';
import { InMemoryStampCache } from '../../src/stamps/stamp-cache.js';
import { validate } from '../../src/admission/validate.js';
import { fixture, type Review } from './harness.js';

// F2 without relying on the namespaceSelector: its kubernetes.io/metadata.name label does not exist
// before Kubernetes 1.21, so the webhook itself leaves kube-system and its own namespace alone.

const NOW = Date.parse('2026-03-02T10:05:00Z');
const OWN = 'rollguard-ops';
const deps: MutateDeps = { cache: new InMemoryStampCache(), policyFor: resolver(DEFAULT_POLICY_SET), trustedUsers: new Set(), ownNamespace: OWN };
const K = (name: keyof typeof ANNOTATIONS): string => ANNOTATIONS[name].key;
const fixtures = new Map<string, Review>();

beforeAll(async () => {
  for (const name of ['deployment-rollout-undo', 'deployment-update-image', 'configmap-create', 'secret-update', 'job-create']) fixtures.set(name, await fixture(name));
});

type Meta = { metadata?: { namespace?: string; annotations?: Record<string, string> } };

/** The fixture moved to `namespace`; the rollback one in the middle of a blackout, with a forged key. */
function inNamespace(name: string, namespace: string): AdmissionRequest {
  const review = structuredClone(fixtures.get(name)) as Review;
  review.request.namespace = namespace;
  for (const obj of [review.request.object, review.request.oldObject] as (Meta | null)[]) {
    if (obj?.metadata) obj.metadata.namespace = namespace;
  }
  const old = review.request.oldObject as Meta | null;
  if (old?.metadata) old.metadata.annotations = { ...old.metadata.annotations, [K('blackoutUntil')]: '2026-03-02T10:11:00Z', [K('rolledBackBy')]: 'rollguard-agent' };
  const object = review.request.object as Meta;
  if (object.metadata) object.metadata.annotations = { ...object.metadata.annotations, [K('eligibility')]: 'forged' };
  return review.request as unknown as AdmissionRequest;
}

describe('F2 the webhook itself skips kube-system and its own namespace', () => {
  it.each(['kube-system', OWN])('%s: every kind is admitted with no patch', (namespace) => {
    for (const name of fixtures.keys()) {
      const result = mutate(inNamespace(name, namespace), deps, NOW);
      expect(result.verdict, `${name} in ${namespace}`).toEqual({ type: 'allow' });
      expect(result.summary).toContain(namespace);
    }
  });

  it.each(['kube-system', OWN])('%s: the blackout guard never denies there', (namespace) => {
    expect(validate(inNamespace('deployment-rollout-undo', namespace), deps, NOW).verdict).toEqual({ type: 'allow' });
  });

  it('any other namespace, including one named like rollguard, is stamped and guarded', () => {
    for (const namespace of ['shop', 'rollguard', 'kube-public']) {
      expect(mutate(inNamespace('deployment-update-image', namespace), deps, NOW).verdict.type).toBe('patch');
      expect(validate(inNamespace('deployment-rollout-undo', namespace), deps, NOW).verdict.type).toBe('deny');
    }
  });
});

import fjp from 'fast-json-patch';
import { beforeEach, describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { mutate, type MutateDeps } from '../../src/admission/mutate.js';
import { parsePolicySet, resolver } from '../../src/policy/policy-file.js';
import type { AdmissionRequest } from '../../src/admission/review.js';
import { InMemoryStampCache } from '../../src/stamps/stamp-cache.js';
import { validate } from '../../src/admission/validate.js';
import { formatInstant } from '../../src/core/duration.js';
import { formatTemplateHistory, templateHash } from '../../src/core/template-hash.js';
import type { Deployment } from '../../src/core/kube.js';
import { fixture, type Review } from './harness.js';

// R8 for a human's `kubectl rollout undo`, recorded by the mutating webhook itself: the blackout
// then holds for any rollback, not only the agent's. The fixture is the request kubectl sends: the
// target ReplicaSet's template and annotations, checkout:1.4.1 → checkout:1.4.0.

const NOW = Date.parse('2026-03-02T10:05:00Z');
const AGENT = 'system:serviceaccount:rollguard:rollguard-agent';
const K = (name: keyof typeof ANNOTATIONS): string => ANNOTATIONS[name].key;
const policies = parsePolicySet({ namespaces: { payments: { blackout: '3m' } } });
if (!policies.ok) throw new Error(policies.errors.join('; '));
let deps: MutateDeps;

beforeEach(() => {
  deps = { cache: new InMemoryStampCache(), policyFor: resolver(policies.set), trustedUsers: new Set([AGENT]), ownNamespace: 'rollguard' };
});

type Result = { annotations: Record<string, string>; stored: Deployment; ops: fjp.Operation[]; warnings: readonly string[] };

function admit(review: Review, now: number): Result {
  const verdict = mutate(review.request as unknown as AdmissionRequest, deps, now).verdict;
  if (verdict.type !== 'patch') throw new Error(`expected a patch, got ${verdict.type}`);
  const stored = fjp.applyPatch(structuredClone(review.request.object), [...verdict.ops], true, false).newDocument as Deployment;
  return { annotations: stored.metadata?.annotations ?? {}, stored, ops: [...verdict.ops], warnings: verdict.warnings ?? [] };
}

function annotate(object: Record<string, unknown> | null, extra: Record<string, string>): void {
  const d = object as Deployment;
  d.metadata = { ...d.metadata, annotations: { ...d.metadata?.annotations, ...extra } };
}

function inNamespace(review: Review, namespace: string): Review {
  review.request.namespace = namespace;
  for (const o of [review.request.object, review.request.oldObject] as (Deployment | null)[]) if (o?.metadata) o.metadata.namespace = namespace;
  return review;
}

const agentRecord = {
  [K('rolledBackAt')]: '2026-03-02T10:05:00Z',
  [K('rolledBackBy')]: 'rollguard-agent',
  [K('rollbackReason')]: '5xx share 12% above 2% after the deploy of checkout:1.4.1',
  [K('blackoutUntil')]: '2026-03-02T10:15:00Z',
  [K('decisionId')]: 'd-42',
};

describe('R8 a human rollback is recorded at admission and starts the blackout', () => {
  it('stamps who, when, why and blackout-until = now + the policy blackout', async () => {
    const a = admit(await fixture('deployment-rollout-undo'), NOW).annotations;
    expect(a[K('rolledBackAt')]).toBe('2026-03-02T10:05:00Z');
    expect(a[K('rolledBackBy')]).toBe('alice@example.com');
    expect(a[K('rollbackReason')]).toBe('the pod template returned to the one admitted at 2026-03-02T09:00:00Z (sha256:edb594c4fd1fa5d9ce6a)');
    expect(a[K('blackoutUntil')]).toBe('2026-03-02T10:15:00Z');
  });

  it("uses the namespace policy's blackout", async () => {
    expect(admit(inNamespace(await fixture('deployment-rollout-undo'), 'payments'), NOW).annotations[K('blackoutUntil')]).toBe('2026-03-02T10:08:00Z');
  });

  it('stamps no rollback record on a forward deploy', async () => {
    const a = admit(await fixture('deployment-update-image'), NOW).annotations;
    for (const key of [K('rolledBackAt'), K('rolledBackBy'), K('rollbackReason'), K('blackoutUntil')]) expect(a[key]).toBeUndefined();
  });

  it('the blackout guard then denies a second rollback, naming the human and until when', async () => {
    const first = await fixture('deployment-rollout-undo');
    const stored = admit(first, NOW).stored;
    // Undo again: back to checkout:1.4.1, the template the first rollback left.
    const second = structuredClone(first);
    second.request.oldObject = structuredClone(stored) as Record<string, unknown>;
    second.request.object = structuredClone(first.request.oldObject);
    const verdict = validate(second.request as unknown as AdmissionRequest, deps, NOW + 60_000).verdict;
    expect(verdict.type).toBe('deny');
    if (verdict.type !== 'deny') return;
    expect(verdict.message).toContain('rolled back by alice@example.com at 2026-03-02T10:05:00Z');
    expect(verdict.message).toContain('blocked until 2026-03-02T10:15:00Z');
  });
});

describe("R8 the agent's own rollback record stands", () => {
  it('keeps the who/why/decision the agent wrote in its rollback, without warnings', async () => {
    const review = await fixture('deployment-rollout-undo');
    review.request.userInfo = { username: AGENT };
    annotate(review.request.object, agentRecord);
    const r = admit(review, NOW + 2000);
    for (const [key, value] of Object.entries(agentRecord)) expect(r.annotations[key]).toBe(value);
    expect(r.warnings).toEqual([]);
  });

  it('records an agent rollback that carries no record of its own, by the agent user', async () => {
    const review = await fixture('deployment-rollout-undo');
    review.request.userInfo = { username: AGENT };
    expect(admit(review, NOW).annotations[K('rolledBackBy')]).toBe(AGENT);
  });

  it("does not let anyone else's request forge the record", async () => {
    const review = await fixture('deployment-rollout-undo');
    annotate(review.request.object, { ...agentRecord, [K('blackoutUntil')]: '2026-03-02T10:05:01Z' });
    const a = admit(review, NOW).annotations;
    expect(a[K('rolledBackBy')]).toBe('alice@example.com');
    expect(a[K('blackoutUntil')]).toBe('2026-03-02T10:15:00Z');
  });
});

describe('R12 reinvocation of a recorded rollback gives an empty patch', () => {
  it.each([
    ['a human rollback', undefined, {}],
    ['the agent, with its own record', AGENT, agentRecord],
    ['the agent, without a record', AGENT, {}],
  ])('%s', async (_label, username, record) => {
    const review = await fixture('deployment-rollout-undo');
    if (username !== undefined) review.request.userInfo = { username };
    annotate(review.request.object, record);
    const first = admit(review, NOW);
    const again = structuredClone(review);
    again.request.object = first.stored as Record<string, unknown>;
    expect(mutate(again.request as unknown as AdmissionRequest, deps, NOW + 1500).verdict).toMatchObject({ type: 'patch', ops: [] });
  });
});

/**
 * The fixture moved in time: the target template was admitted at `targetAt`, the bad one 10 s
 * later, and the undo arrives at `now`, carrying the target ReplicaSet's template-changed-at.
 */
async function quickUndo(targetAt: number): Promise<Review> {
  const review = await fixture('deployment-rollout-undo');
  const object = review.request.object as Deployment;
  const old = review.request.oldObject as Deployment;
  const target = { hash: templateHash(object.spec?.template), at: targetAt };
  const bad = { hash: templateHash(old.spec?.template), at: targetAt + 10_000 };
  annotate(review.request.oldObject, { [K('templateChangedAt')]: formatInstant(bad.at), [K('templateHistory')]: formatTemplateHistory([bad, target]) });
  annotate(review.request.object, { [K('templateChangedAt')]: formatInstant(targetAt) });
  return review;
}

describe('R8 R1 a rollback is a new deploy start', () => {
  const targetAt = Date.parse('2026-03-02T09:00:00Z');
  const now = targetAt + 25_000;

  it("stamps the rollback's own time, not the target template's copied one, even inside the reuse window", async () => {
    const a = admit(await quickUndo(targetAt), now).annotations;
    expect(a[K('templateChangedAt')]).toBe('2026-03-02T09:00:25Z');
    expect(a[K('rolledBackAt')]).toBe('2026-03-02T09:00:25Z');
    expect(JSON.parse(a[K('templateHistory')] ?? '[]')).toEqual([
      { hash: 'sha256:edb594c4fd1fa5d9ce6a', at: '2026-03-02T09:00:25Z' },
      { hash: 'sha256:bc6ae39712b41f781e05', at: '2026-03-02T09:00:10Z' },
    ]);
  });

  it('still reuses its own fresh stamp on reinvocation', async () => {
    const review = await quickUndo(targetAt);
    const again = structuredClone(review);
    again.request.object = admit(review, now).stored as Record<string, unknown>;
    expect(mutate(again.request as unknown as AdmissionRequest, deps, now + 2000).verdict).toMatchObject({ type: 'patch', ops: [] });
  });
});

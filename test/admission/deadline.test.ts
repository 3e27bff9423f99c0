import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_SET, resolver } from '../../src/policy/policy-file.js';
import type { PolicyObjectsSource, StampSource } from '../../src/admission/review-inputs.js';
import { InMemoryStampCache } from '../../src/stamps/stamp-cache.js';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import type { Deployment } from '../../src/core/kube.js';
import type { Policy } from '../../src/core/policy.js';
import { stampedDeploy } from '../../src/core/stamped-deploy.js';
import { decodePatch, fixture, startTestWebhook, type Review, type TestWebhook } from './harness.js';

// F2 (never the cause of a cluster's outage): whatever a dependency of the review path does, the
// review is answered within the internal deadline, allowed and unstamped; F1 downstream: a
// Deployment admitted unstamped is unknown to the agent, never eligible. Each dependency is
// stalled for 5 s here and the answer must come within the deadline plus a margin that stays well
// inside the 1 s timeoutSeconds the webhook configurations give the apiserver.

const NOW = Date.parse('2026-03-02T10:05:00Z');
const DEADLINE_MS = 300;
/** Scheduling and TLS on a shared machine; the sum stays under the configurations' 1 s. */
const MARGIN_MS = 600;
const STALL_MS = 5000;
const policyFor = resolver(DEFAULT_POLICY_SET);

const timers: NodeJS.Timeout[] = [];
function stall<T>(value: T): Promise<T> {
  return new Promise((resolve) => timers.push(setTimeout(resolve, STALL_MS, value)));
}

let hook: TestWebhook | undefined;
afterEach(async () => {
  await hook?.close();
  hook = undefined;
});
afterAll(() => {
  for (const t of timers) clearTimeout(t);
});

function stalledCache(what: 'lookup' | 'synced'): StampSource {
  const memory = new InMemoryStampCache();
  return {
    lookup: (ns, kind, name) => (what === 'lookup' ? stall(memory.lookup(ns, kind, name)) : memory.lookup(ns, kind, name)),
    synced: () => (what === 'synced' ? stall(true) : true),
    noteAdmitted: (...args) => {
      memory.noteAdmitted(...args);
    },
  };
}

function policyReview(spec: unknown): Review {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'b7a1c0de-0000-4000-8000-000000000017',
      kind: { group: 'rollguard.io', version: 'v1alpha1', kind: 'RollbackPolicy' },
      resource: { group: 'rollguard.io', version: 'v1alpha1', resource: 'rollbackpolicies' },
      name: 'p',
      namespace: 'shop',
      operation: 'CREATE',
      object: { apiVersion: 'rollguard.io/v1alpha1', kind: 'RollbackPolicy', metadata: { name: 'p', namespace: 'shop' }, spec },
      oldObject: null,
    },
  };
}

async function timed(path: '/mutate' | '/validate', review: Review): Promise<{ ms: number; answer: Awaited<ReturnType<TestWebhook['review']>> }> {
  if (hook === undefined) throw new Error('no webhook');
  const start = performance.now();
  const answer = await hook.review(path, review);
  return { ms: performance.now() - start, answer };
}

async function deadlineCount(stage: string, webhook: string): Promise<number> {
  const metric = await hook?.server.metrics.deadlineExceeded.get();
  return metric?.values.find((v) => v.labels.stage === stage && v.labels.webhook === webhook)?.value ?? 0;
}

type Case = [string, string, '/mutate' | '/validate', string, () => Parameters<typeof startTestWebhook>[0]];
const cases: Case[] = [
  ['the stamp cache lookup of a referenced ConfigMap', 'stamp-cache', '/mutate', 'deployment-update-image', () => ({ now: NOW, cache: stalledCache('lookup') })],
  ['whether the stamp cache has synced', 'stamp-cache', '/mutate', 'deployment-update-image', () => ({ now: NOW, cache: stalledCache('synced') })],
  ["the Deployment namespace's policy", 'policy', '/mutate', 'deployment-update-image', () => ({ now: NOW, policyFor: (ns: string): Promise<Policy> => stall(policyFor(ns)) })],
  ["the Job namespace's policy (migration selectors)", 'policy', '/mutate', 'job-create', () => ({ now: NOW, policyFor: (ns: string): Promise<Policy> => stall(policyFor(ns)) })],
];

describe('F2 the review deadline: a stalled dependency never holds the apiserver', () => {
  it.each(cases)('%s stalled 5 s: answered allowed and unstamped within the deadline, counted and logged', async (_label, stage, path, name, options) => {
    hook = await startTestWebhook({ ...options(), deadlineMs: DEADLINE_MS });
    const review = await fixture(name);
    const { ms, answer } = await timed(path, review);
    expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 5);
    expect(ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(answer.response.allowed).toBe(true);
    expect(answer.response.patch).toBeUndefined();
    expect(answer.response.warnings?.join()).toMatch(new RegExp(`no answer within ${String(DEADLINE_MS)} ms, waiting for ${stage}.*treat it as unknown`));
    expect(await deadlineCount(stage, 'mutate')).toBe(1);
    expect(hook.logs.some((l) => l.includes('review deadline passed') && l.includes(`"stage":"${stage}"`) && l.includes(review.request.uid))).toBe(true);
  });

  it('the policy objects stalled 5 s: a policy object is admitted within the deadline (an invalid one too: fail open)', async () => {
    const objects: PolicyObjectsSource = { objects: () => stall({ cluster: [], namespaced: [] }) };
    hook = await startTestWebhook({ now: NOW, policyObjects: objects, deadlineMs: DEADLINE_MS });
    const { ms, answer } = await timed('/validate', policyReview({ mode: 'yolo' }));
    expect(ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(answer.response.allowed).toBe(true);
    expect(await deadlineCount('policy-objects', 'validate')).toBe(1);
  });

  it('R8 the blackout guard waits on nothing: it still denies while every dependency stalls', async () => {
    const objects: PolicyObjectsSource = { objects: () => stall({ cluster: [], namespaced: [] }) };
    hook = await startTestWebhook({ now: NOW, cache: stalledCache('lookup'), policyFor: (ns) => stall(policyFor(ns)), policyObjects: objects, deadlineMs: DEADLINE_MS });
    const review = await fixture('deployment-rollout-undo');
    const old = review.request.oldObject as { metadata: { annotations: Record<string, string> } };
    old.metadata.annotations[ANNOTATIONS.blackoutUntil.key] = '2026-03-02T10:11:00Z';
    old.metadata.annotations[ANNOTATIONS.rolledBackBy.key] = 'rollguard-agent';
    const { ms, answer } = await timed('/validate', review);
    expect(answer.response.allowed).toBe(false);
    expect(ms).toBeLessThan(DEADLINE_MS);
  });

  it('a dependency that answers late but within the deadline still gets the change stamped', async () => {
    const memory = new InMemoryStampCache();
    const late = <T>(value: T): Promise<T> => new Promise((resolve) => setTimeout(resolve, 20, value));
    const cache: StampSource = { lookup: (...a) => late(memory.lookup(...a)), synced: () => late(true), noteAdmitted: () => undefined };
    hook = await startTestWebhook({ now: NOW, cache, policyFor: (ns) => late(policyFor(ns)), deadlineMs: DEADLINE_MS });
    const { answer } = await timed('/mutate', await fixture('deployment-update-image'));
    expect(decodePatch(answer).some((op) => op.path === `/metadata/annotations/${ANNOTATIONS.eligibility.key.replace('/', '~1')}`)).toBe(true);
    expect(await deadlineCount('stamp-cache', 'mutate')).toBe(0);
  });

  it('F1 downstream: the Deployment admitted unstamped is unknown to the agent (no stamp, a doubt), never taken as stamped', async () => {
    hook = await startTestWebhook({ now: NOW, cache: stalledCache('lookup'), deadlineMs: DEADLINE_MS });
    const review = await fixture('deployment-update-image');
    const { answer } = await timed('/mutate', review);
    expect(answer.response.patch).toBeUndefined();
    // What the apiserver stores: the object as sent, its stamps still those of the previous template.
    const view = stampedDeploy(review.request.object as Deployment, [], NOW + 60_000);
    expect(view.stamped).toBe(false);
    expect(view.doubts.join()).toMatch(/no rollguard stamp/);
  });
});

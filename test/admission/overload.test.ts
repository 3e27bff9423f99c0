import { afterEach, describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import type { Deployment } from '../../src/core/kube.js';
import { stampedDeploy } from '../../src/core/stamped-deploy.js';
import { DEFAULT_SHED_ABOVE, nextShedState, startShedder, type ShedChange, type ShedState } from '../../src/admission/overload.js';
import { configEvents } from '../../src/stamps/eligibility.js';
import { InMemoryStampCache } from '../../src/stamps/stamp-cache.js';
import { annotationsAfter, fixture, patched, startTestWebhook, type Review, type TestWebhook } from './harness.js';

// F2 under overload: past its capacity the webhook admits a share of mutating reviews unstamped
// instead of queueing every write until the apiserver's timeout; F1: what it admits so is unknown
// to the agent, never more permissive; R12: rollguard's keys stay rollguard's; R8: the blackout
// guard is never shed.

const NOW = Date.parse('2026-03-02T10:05:00Z');
const AGENT = 'system:serviceaccount:rollguard:rollguard-agent';

/** The share after each window of `utilizations`, from none shed. */
function shares(utilizations: readonly number[], from: ShedState = { share: 0, hot: 0 }): number[] {
  let state = from;
  return utilizations.map((u) => (state = nextShedState(state, u, 0.95)).share);
}

describe('F2 the shed share: rises while the event loop stays saturated, falls once it has room', () => {
  it('one saturated window (a GC pause, one large body) sheds nothing; from the second on it rises by steps, up to every review', () => {
    const seen = shares(Array.from({ length: 13 }, () => 0.99));
    expect(seen[0]).toBe(0);
    expect(seen[1]).toBeCloseTo(0.1);
    expect(seen[5]).toBeCloseTo(0.5);
    expect(seen.at(-1)).toBe(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] ?? 0);
  });

  it('saturated windows that are not consecutive never shed', () => {
    expect(shares([0.99, 0.5, 0.99, 0.9, 0.99, 0.2, 0.99])).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('holds inside the band under the bound, and falls to exactly 0 below it', () => {
    expect(shares([0.9, 0.95], { share: 0.4, hot: 3 })).toEqual([0.4, 0.4]);
    expect(shares(Array.from({ length: 20 }, () => 0.5), { share: 0.4, hot: 0 }).at(-1)).toBe(0);
    expect(shares([0.2])).toEqual([0]);
  });
});

describe('F2 the shedder: sheds its share of reviews, spread evenly, and says when it starts and stops', () => {
  it('sheds nothing until two saturated windows, then one in ten per 0.1 of share', () => {
    const shedder = startShedder({ above: DEFAULT_SHED_ABOVE, timer: false });
    shedder.sample(1);
    expect(Array.from({ length: 100 }, () => shedder.shed()).filter(Boolean)).toHaveLength(0);
    shedder.sample(1);
    expect(Array.from({ length: 100 }, () => shedder.shed()).filter(Boolean)).toHaveLength(10);
    for (let i = 0; i < 4; i++) shedder.sample(1);
    const half = Array.from({ length: 10 }, () => shedder.shed());
    expect(half.filter(Boolean)).toHaveLength(5);
    // Evenly: never two shed in a row at one half.
    for (let i = 1; i < half.length; i++) expect(half[i] && half[i - 1]).toBe(false);
  });

  it('reports the episode: its start, and at its end how many reviews it shed', () => {
    const changes: ShedChange[] = [];
    const shedder = startShedder({ above: 0.95, timer: false, onChange: (c) => changes.push(c) });
    shedder.sample(1);
    shedder.sample(1);
    shedder.sample(1);
    for (let i = 0; i < 20; i++) shedder.shed();
    while (shedder.share() > 0) shedder.sample(0.1);
    expect(changes[0]).toMatchObject({ previous: 0, utilization: 1 });
    expect(changes[0]?.share).toBeCloseTo(0.1);
    expect(changes.at(-1)).toMatchObject({ share: 0, shedInEpisode: 4 });
  });
});

let hook: TestWebhook | undefined;
afterEach(async () => {
  await hook?.close();
  hook = undefined;
});

async function overloaded(): Promise<TestWebhook> {
  const h = await startTestWebhook({ now: NOW });
  // Saturated windows until every mutating review is shed.
  for (let i = 0; i < 11; i++) h.server.shedder?.sample(1);
  expect(h.server.shedder?.share()).toBe(1);
  return h;
}

async function shedCount(kind: string): Promise<number> {
  const metric = await hook?.server.metrics.shed.get();
  return metric?.values.find((v) => v.labels.kind === kind && v.labels.webhook === 'mutate')?.value ?? 0;
}

function annotationsOf(review: Review, side: 'object' | 'oldObject'): Record<string, string> {
  const meta = review.request[side]?.metadata as { annotations?: Record<string, string> } | undefined;
  if (meta === undefined) throw new Error(`the fixture has no ${side}.metadata`);
  meta.annotations ??= {};
  return meta.annotations;
}

describe('F2 an overloaded webhook answers with the request alone (F1, R8, R12)', () => {
  it('F1 a Deployment template change shed is admitted with a warning and no new stamps: unknown to the agent, counted', async () => {
    hook = await overloaded();
    const review = await fixture('deployment-update-image');
    const answer = await hook.review('/mutate', review);
    expect(answer.response.allowed).toBe(true);
    expect(answer.response.warnings?.join()).toMatch(/could not stamp this change \(the webhook is overloaded\).*treat it as unknown/);
    const after = annotationsAfter(review, answer);
    expect(after[ANNOTATIONS.templateChangedAt.key]).toBe('2026-03-02T09:00:00Z');
    const view = stampedDeploy(patched(review, answer), [], NOW + 60_000);
    expect(view.stamped).toBe(false);
    expect(await shedCount('Deployment')).toBe(1);
  });

  it('the same review is stamped once the loop has room again', async () => {
    hook = await overloaded();
    while ((hook.server.shedder?.share() ?? 0) > 0) hook.server.shedder?.sample(0.2);
    const review = await fixture('deployment-update-image');
    const after = annotationsAfter(review, await hook.review('/mutate', review));
    expect(after[ANNOTATIONS.templateChangedAt.key]).toBe(new Date(NOW).toISOString().replace('.000Z', 'Z'));
    expect(await shedCount('Deployment')).toBe(0);
    expect(hook.logs.some((l) => l.includes('no longer overloaded'))).toBe(true);
  });

  it('F1 a ConfigMap/Secret content change shed loses its previous content stamps, so it reads unknown, not unchanged since then', async () => {
    hook = await overloaded();
    const review = await fixture('secret-update');
    const answer = await hook.review('/mutate', review);
    const after = annotationsAfter(review, answer);
    expect(after[ANNOTATIONS.contentChangedAt.key]).toBeUndefined();
    expect(after[ANNOTATIONS.createdAt.key]).toBeUndefined();
    // What the agent's stamp cache then reads: no content stamp, the write's own managedFields time.
    const cache = new InMemoryStampCache();
    cache.upsert('Secret', { name: review.request.name, namespace: 'shop', annotations: after, managedFields: [{ time: new Date(NOW).toISOString() }] });
    const reading = (name: string): Deployment => ({ metadata: { namespace: 'shop', name: 'checkout' }, spec: { template: { spec: { containers: [{ name: 'app', image: 'x', envFrom: [{ secretRef: { name } }] }] } } } });
    const events = configEvents(cache, 'shop', reading(review.request.name ?? ''), reading(review.request.name ?? ''), NOW + 60_000, NOW - 30 * 60_000);
    expect(events).toEqual([expect.objectContaining({ content: 'unknown' })]);
    expect(await shedCount('Secret')).toBe(1);
  });

  it('R12 a forged rollguard key is still removed or put back while shedding', async () => {
    hook = await overloaded();
    const review = await fixture('deployment-update-image');
    annotationsOf(review, 'object')[ANNOTATIONS.eligibility.key] = 'eligible';
    annotationsOf(review, 'oldObject')[ANNOTATIONS.eligibility.key] = 'ineligible';
    annotationsOf(review, 'object')[ANNOTATIONS.blackoutUntil.key] = '2026-03-02T10:00:00Z';
    const answer = await hook.review('/mutate', review);
    const after = annotationsAfter(review, answer);
    expect(after[ANNOTATIONS.eligibility.key]).toBe('ineligible');
    expect(after[ANNOTATIONS.blackoutUntil.key]).toBeUndefined();
    expect(answer.response.warnings?.join()).toMatch(/written only by rollguard/);
  });

  it("R12 the agent's own writes to its keys stand while shedding", async () => {
    hook = await overloaded();
    const review = await fixture('deployment-update-image');
    review.request.userInfo = { username: AGENT };
    annotationsOf(review, 'object')[ANNOTATIONS.blackoutUntil.key] = '2026-03-02T10:15:00Z';
    const after = annotationsAfter(review, await hook.review('/mutate', review));
    expect(after[ANNOTATIONS.blackoutUntil.key]).toBe('2026-03-02T10:15:00Z');
  });

  it('R8 the blackout guard is never shed: a rollback inside the blackout is still denied', async () => {
    hook = await overloaded();
    const review = await fixture('deployment-rollout-undo');
    const old = annotationsOf(review, 'oldObject');
    old[ANNOTATIONS.blackoutUntil.key] = '2026-03-02T10:11:00Z';
    old[ANNOTATIONS.rolledBackBy.key] = 'rollguard-agent';
    const answer = await hook.review('/validate', review);
    expect(answer.response.allowed).toBe(false);
    expect((await hook.server.metrics.shed.get()).values.reduce((n, v) => n + v.value, 0)).toBe(0);
  });
});

describe('F1 a review whose stamping fails is answered as a shed one', () => {
  it('a ConfigMap/Secret whose handler throws keeps no stale content stamp', async () => {
    const memory = new InMemoryStampCache();
    hook = await startTestWebhook({
      now: NOW,
      cache: {
        lookup: (...a) => memory.lookup(...a),
        synced: () => true,
        noteAdmitted: () => {
          throw new Error('the stamp cache failed');
        },
      },
    });
    const review = await fixture('secret-update');
    const answer = await hook.review('/mutate', review);
    expect(answer.response.warnings?.join()).toMatch(/internal error/);
    expect(annotationsAfter(review, answer)[ANNOTATIONS.contentChangedAt.key]).toBeUndefined();
  });
});

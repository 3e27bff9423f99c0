import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { parseTemplateHistory, templateHash } from '../../src/core/template-hash.js';
import type { Deployment } from '../../src/core/kube.js';
import { annotationsAfter, decodePatch, fixture, reinvocation, startTestWebhook, type Review, type TestWebhook } from './harness.js';

const NOW = Date.parse('2026-03-02T10:05:00Z');
const LONG_AGO = '2026-02-20T08:12:40Z';
const K = (name: keyof typeof ANNOTATIONS): string => ANNOTATIONS[name].key;

let hook: TestWebhook;

function stampReferencedConfig(): void {
  hook.cache.clear();
  for (const [kind, name] of [['ConfigMap', 'checkout-config-7f9c'], ['Secret', 'checkout-db'], ['Secret', 'checkout-tls']] as const) {
    hook.cache.upsert(kind, { namespace: 'shop', name, annotations: { [K('createdAt')]: LONG_AGO, [K('contentChangedAt')]: LONG_AGO } });
  }
}

beforeAll(async () => {
  hook = await startTestWebhook({ now: NOW });
});
afterAll(async () => {
  await hook.close();
});
beforeEach(() => {
  hook.setNow(NOW);
  stampReferencedConfig();
});

describe('R3 R12 Deployment stamps at admission', () => {
  it('stamps a template change with time, hash, history, change set and eligibility', async () => {
    const review = await fixture('deployment-update-image');
    const answer = await hook.review('/mutate', review);
    const a = annotationsAfter(review, answer);
    const object = review.request.object as Deployment;
    const old = review.request.oldObject as Deployment;
    expect(a[K('templateChangedAt')]).toBe('2026-03-02T10:05:00Z');
    expect(a[K('templateHash')]).toBe(templateHash(object.spec?.template));
    expect(parseTemplateHistory(a[K('templateHistory')]).map((e) => e.hash)).toEqual([templateHash(object.spec?.template), templateHash(old.spec?.template)]);
    expect(a[K('changeSet')]).toBe('pod-spec-only');
    expect(a[K('eligibility')]).toBe('eligible');
    expect(JSON.parse(a[K('eligibilityReasons')] ?? 'null')).toEqual([]);
    // Keys are escaped in paths and nothing but annotations is touched.
    for (const op of decodePatch(answer)) expect(op.path).toMatch(/^\/metadata\/annotations\/rollguard\.io~1[a-z-]+$/);
    // Other annotations are left as they were.
    expect(a['kubectl.kubernetes.io/last-applied-configuration']).toContain('1.4.1');
  });

  it('is human-required when a ConfigMap the template reads changed in place shortly before', async () => {
    hook.cache.upsert('ConfigMap', { namespace: 'shop', name: 'checkout-config-7f9c', annotations: { [K('createdAt')]: LONG_AGO, [K('contentChangedAt')]: '2026-03-02T09:50:00Z' } });
    const review = await fixture('deployment-update-image');
    const a = annotationsAfter(review, await hook.review('/mutate', review));
    expect(a[K('changeSet')]).toBe('mixed');
    expect(a[K('eligibility')]).toBe('human-required');
    expect(a[K('changeSetReasons')]).toContain('checkout-config-7f9c');
    expect(a[K('eligibilityReasons')]).toContain('the change set is mixed');
  });

  it('is unknown when a referenced Secret carries no rollguard stamp (written while the webhook was down)', async () => {
    hook.cache.upsert('Secret', { namespace: 'shop', name: 'checkout-db', annotations: {} });
    const review = await fixture('deployment-update-image');
    const a = annotationsAfter(review, await hook.review('/mutate', review));
    expect(a[K('changeSet')]).toBe('unknown');
    expect(a[K('eligibility')]).toBe('human-required');
  });

  it('stamps nothing when only metadata outside the template changed', async () => {
    const review = await fixture('deployment-update-image');
    const object = review.request.object as Deployment;
    const old = review.request.oldObject as Deployment;
    object.spec = { ...object.spec, template: old.spec?.template };
    const answer = await hook.review('/mutate', review);
    expect(answer.response.patch).toBeUndefined();
  });

  it('stamps a CREATE (oldObject null) and requires a human: there is no earlier revision', async () => {
    const review = await fixture('deployment-create');
    const a = annotationsAfter(review, await hook.review('/mutate', review));
    expect(a[K('templateChangedAt')]).toBe('2026-03-02T10:05:00Z');
    expect(a[K('eligibility')]).toBe('human-required');
    expect(a[K('eligibilityReasons')]).toContain('no earlier revision');
  });

  it('leaves managedFields alone under server-side apply and the patch applies cleanly', async () => {
    const review = await fixture('deployment-server-side-apply');
    const answer = await hook.review('/mutate', review);
    const ops = decodePatch(answer);
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.every((op) => op.path.startsWith('/metadata/annotations/'))).toBe(true);
    expect(annotationsAfter(review, answer)[K('templateChangedAt')]).toBe('2026-03-02T10:05:00Z');
  });
});

describe('R3 a config object created before the old template began running', () => {
  // The first smoke test of a new user: a ConfigMap at 10:04:44.433, the Deployment reading it
  // admitted at 10:04:44.755, a new image at 10:05.
  const DEPLOYMENT_CREATED = '2026-03-02T10:04:44.755Z';

  async function newImageAfter(oldTemplateAt: string, extra: Record<string, string> = {}): Promise<Review> {
    const review = await fixture('deployment-update-image');
    const old = review.request.oldObject as Deployment;
    const history = JSON.stringify([{ hash: templateHash(old.spec?.template), at: oldTemplateAt }]);
    old.metadata = { ...old.metadata, annotations: { ...old.metadata?.annotations, [K('templateChangedAt')]: oldTemplateAt, [K('templateHistory')]: history, ...extra } };
    return review;
  }

  function configCreatedAt(at: string): void {
    hook.cache.upsert('ConfigMap', { namespace: 'shop', name: 'checkout-config-7f9c', annotations: { [K('createdAt')]: at, [K('contentChangedAt')]: at } });
  }

  it('a ConfigMap created just before the Deployment that reads it is no change for the old template: pod-spec-only, eligible', async () => {
    configCreatedAt('2026-03-02T10:04:44.433Z');
    const review = await newImageAfter(DEPLOYMENT_CREATED);
    const a = annotationsAfter(review, await hook.review('/mutate', review));
    expect(a[K('changeSet')]).toBe('pod-spec-only');
    expect(JSON.parse(a[K('changeSetReasons')] ?? 'null')).toEqual([]);
    expect(a[K('eligibility')]).toBe('eligible');
  });

  it('one created after the old template began running is a re-creation: mixed', async () => {
    configCreatedAt('2026-03-02T10:04:46Z');
    const review = await newImageAfter(DEPLOYMENT_CREATED);
    const a = annotationsAfter(review, await hook.review('/mutate', review));
    expect(a[K('changeSet')]).toBe('mixed');
    expect(a[K('changeSetReasons')]).toContain('ConfigMap checkout-config-7f9c (read by the old template via envFrom of container app) was re-created at 2026-03-02T10:04:46Z, after the old template began running (2026-03-02T10:04:44.755Z)');
  });

  it.each([
    ['the old template has no admission time (admitted before rollguard stamped it)', { [K('templateHistory')]: '[]' }],
    ['the old template came back by a rollback (its ReplicaSet\'s pods may be older)', { [K('rolledBackAt')]: DEPLOYMENT_CREATED }],
  ] as const)('F1 the create is unknown when %s', async (_label, extra) => {
    configCreatedAt('2026-03-02T10:04:44.433Z');
    const review = await newImageAfter(DEPLOYMENT_CREATED, extra);
    const a = annotationsAfter(review, await hook.review('/mutate', review));
    expect(a[K('changeSet')]).toBe('unknown');
    expect(a[K('changeSetReasons')]).toContain('whether the old template\'s pods read an earlier one is not known');
  });
});

describe('R12 annotations survive kubectl rollout undo and cannot be forged', () => {
  it('carries dropped keys forward and re-stamps the rollback from the history', async () => {
    const review = await fixture('deployment-rollout-undo');
    const answer = await hook.review('/mutate', review);
    const a = annotationsAfter(review, answer);
    const oldAnn = (review.request.oldObject as Deployment).metadata?.annotations ?? {};
    const object = review.request.object as Deployment;
    // The ReplicaSet's annotations dropped change-set/eligibility keys: all present again.
    for (const key of [K('changeSet'), K('eligibility'), K('templateHistory')]) expect(a[key]).toBeDefined();
    expect(a[K('templateHash')]).toBe(templateHash(object.spec?.template));
    expect(a[K('templateChangedAt')]).toBe('2026-03-02T10:05:00Z');
    const history = parseTemplateHistory(a[K('templateHistory')]);
    expect(history[0]?.hash).toBe(templateHash(object.spec?.template));
    expect(history.map((e) => e.hash)).toContain(oldAnn[K('templateHash')]);
    expect(new Set(history.map((e) => e.hash)).size).toBe(history.length);
  });

  it('puts back a rollguard key changed by a user, with a warning', async () => {
    const review = await fixture('deployment-update-image');
    const object = review.request.object as Deployment;
    const old = review.request.oldObject as Deployment;
    object.spec = { ...object.spec, template: old.spec?.template };
    object.metadata = { ...object.metadata, annotations: { ...object.metadata?.annotations, [K('blackoutUntil')]: '2020-01-01T00:00:00Z', [K('eligibility')]: 'eligible-forged' } };
    const answer = await hook.review('/mutate', review);
    const a = annotationsAfter(review, answer);
    expect(a[K('eligibility')]).toBe('eligible');
    expect(a[K('blackoutUntil')]).toBeUndefined();
    expect(answer.response.warnings?.join('\n')).toContain(K('blackoutUntil'));
    expect(answer.response.warnings?.join('\n')).toContain(K('eligibility'));
  });

  it("lets the agent's service account write its rollback record", async () => {
    const review = await fixture('deployment-update-image');
    review.request.userInfo = { username: 'system:serviceaccount:rollguard:rollguard-agent' };
    const object = review.request.object as Deployment;
    object.metadata = { ...object.metadata, annotations: { ...object.metadata?.annotations, [K('rolledBackBy')]: 'rollguard-agent', [K('blackoutUntil')]: '2026-03-02T10:15:00Z' } };
    const answer = await hook.review('/mutate', review);
    const a = annotationsAfter(review, answer);
    expect(a[K('rolledBackBy')]).toBe('rollguard-agent');
    expect(a[K('blackoutUntil')]).toBe('2026-03-02T10:15:00Z');
    expect(answer.response.warnings).toBeUndefined();
  });

  it('is idempotent: reinvocation with its own output (a little later) gives an empty patch', async () => {
    for (const name of ['deployment-update-image', 'deployment-rollout-undo', 'deployment-create', 'configmap-create', 'secret-update', 'job-create']) {
      hook.setNow(NOW);
      const review = await fixture(name);
      const first = await hook.review('/mutate', review);
      hook.setNow(NOW + 1500);
      const again = await hook.review('/mutate', reinvocation(review, first));
      expect(again.response.patch, name).toBeUndefined();
    }
  });
});

describe('R12 ConfigMap, Secret and Job stamps', () => {
  it('stamps a ConfigMap CREATE (oldObject null) with created-at and content-changed-at', async () => {
    const review = await fixture('configmap-create');
    const a = annotationsAfter(review, await hook.review('/mutate', review));
    expect(a[K('createdAt')]).toBe('2026-03-02T10:05:00Z');
    expect(a[K('contentChangedAt')]).toBe('2026-03-02T10:05:00Z');
  });

  it('stamps a Secret whose data changed, and nothing when only its metadata changed', async () => {
    const changed = await fixture('secret-update');
    expect(annotationsAfter(changed, await hook.review('/mutate', changed))[K('contentChangedAt')]).toBe('2026-03-02T10:05:00Z');
    const metadataOnly = await fixture('secret-update');
    const old = metadataOnly.request.oldObject as { data: unknown; metadata: { labels?: Record<string, string> } };
    const object = metadataOnly.request.object as { data: unknown; metadata: { labels?: Record<string, string> } };
    object.data = old.data;
    object.metadata.labels = { team: 'payments' };
    expect((await hook.review('/mutate', metadataOnly)).response.patch).toBeUndefined();
  });

  it('records a ConfigMap stamp in the cache so a Deployment admitted right after sees it', async () => {
    const cm = await fixture('configmap-create');
    const name = 'checkout-config-7f9c';
    cm.request.name = name;
    (cm.request.object as { metadata: { name: string } }).metadata.name = name;
    cm.request.operation = 'UPDATE';
    cm.request.oldObject = { ...structuredClone(cm.request.object), data: { FEATURE_FLAGS: 'fast-checkout=off' } };
    await hook.review('/mutate', cm);
    const dep = await fixture('deployment-update-image');
    const a = annotationsAfter(dep, await hook.review('/mutate', dep));
    expect(a[K('changeSet')]).toBe('mixed');
  });

  it('stamps a Job CREATE with the migration verdict and admission time', async () => {
    const review = await fixture('job-create');
    const a = annotationsAfter(review, await hook.review('/mutate', review));
    expect(a[K('migrationDetected')]).toBe('true');
    expect(a[K('migrationReason')]).toContain('pre-upgrade');
    expect(a[K('admittedAt')]).toBe('2026-03-02T10:05:00Z');
  });
});

describe('F2 requests rollguard does not stamp', () => {
  it.each([
    ['deployment-delete', '/mutate'],
    ['deployment-delete', '/validate'],
    ['deployment-scale', '/mutate'],
    ['deployment-scale', '/validate'],
  ] as const)('%s on %s: allowed, no patch', async (name, path) => {
    const review = await fixture(name);
    const answer = await hook.review(path, review);
    expect(answer.response.allowed).toBe(true);
    expect(answer.response.patch).toBeUndefined();
  });

  it('answers a v1beta1 review in kind', async () => {
    const review = await fixture('deployment-update-image');
    review.apiVersion = 'admission.k8s.io/v1beta1';
    const answer = await hook.review('/mutate', review);
    expect(answer.apiVersion).toBe('admission.k8s.io/v1beta1');
  });

  it('does not stamp an object whose kind disagrees with the request', async () => {
    const review = await fixture('deployment-update-image');
    (review.request.object as { kind: string }).kind = 'StatefulSet';
    const answer = await hook.review('/mutate', review);
    expect(answer.response.patch).toBeUndefined();
    expect(answer.response.warnings?.[0]).toContain('StatefulSet');
  });
});

async function rollbackDuringBlackout(): Promise<Review> {
  const review = await fixture('deployment-rollout-undo');
  const old = review.request.oldObject as Deployment;
  old.metadata = {
    ...old.metadata,
    annotations: {
      ...old.metadata?.annotations,
      [K('rolledBackBy')]: 'rollguard-agent',
      [K('rolledBackAt')]: '2026-03-02T10:01:00Z',
      [K('rollbackReason')]: '5xx share 12% above 2% after deploy of 1.4.1',
      [K('blackoutUntil')]: '2026-03-02T10:11:00Z',
    },
  };
  return review;
}

describe('R8 blackout guard', () => {
  it('denies a rollback during the blackout, saying who, when, until when, why and how to override', async () => {
    const answer = await hook.review('/validate', await rollbackDuringBlackout());
    expect(answer.response.allowed).toBe(false);
    expect(answer.response.status?.code).toBe(403);
    const message = answer.response.status?.message ?? '';
    for (const part of ['rollguard-agent', '2026-03-02T10:01:00Z', '2026-03-02T10:11:00Z', '5xx share 12%', 'alice@example.com', 'kubectl annotate deployment/checkout -n shop rollguard.io/blackout-override=']) {
      expect(message).toContain(part);
    }
  });

  it('allows the same rollback once the blackout has ended', async () => {
    hook.setNow(Date.parse('2026-03-02T10:11:00Z'));
    expect((await hook.review('/validate', await rollbackDuringBlackout())).response.allowed).toBe(true);
  });

  it.each([
    ['on the Deployment beforehand', 'old'],
    ['in the rollback request', 'new'],
  ] as const)('allows it when a human overrides %s', async (_label, where) => {
    const review = await rollbackDuringBlackout();
    const target = (where === 'old' ? review.request.oldObject : review.request.object) as Deployment;
    target.metadata = { ...target.metadata, annotations: { ...target.metadata?.annotations, [K('blackoutOverride')]: 'checkout still failing, rolling back further (bob)' } };
    const answer = await hook.review('/validate', review);
    expect(answer.response.allowed).toBe(true);
    expect(answer.response.warnings?.[0]).toContain('overridden by a human: checkout still failing');
  });

  it('allows a forward deploy (a template never seen before) during the blackout', async () => {
    const review = await rollbackDuringBlackout();
    const object = review.request.object as Deployment;
    const container = object.spec?.template?.spec?.containers?.[0];
    if (container) container.image = 'registry.example/shop/checkout:1.4.2';
    expect((await hook.review('/validate', review)).response.allowed).toBe(true);
  });

  it('spends a carried-over override on the next template change', async () => {
    const review = await rollbackDuringBlackout();
    const old = review.request.oldObject as Deployment;
    old.metadata = { ...old.metadata, annotations: { ...old.metadata?.annotations, [K('blackoutOverride')]: 'bob' } };
    const object = review.request.object as Deployment;
    object.metadata = { ...object.metadata, annotations: { ...object.metadata?.annotations, [K('blackoutOverride')]: 'bob' } };
    const a = annotationsAfter(review, await hook.review('/mutate', review));
    expect(a[K('blackoutOverride')]).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import type { ReviewResponse } from '../../src/admission/response.js';
import type { AdmissionRequest } from '../../src/admission/review.js';
import { validate } from '../../src/admission/validate.js';
import type { PolicyObjectsView } from '../../src/policy/policy-objects-view.js';
import type { PolicyObject } from '../../src/core/policy-objects.js';
import { startTestWebhook, type Review } from './harness.js';

// The validating webhook for the policy CRDs: the policy file's own checks, with field paths under
// spec, a namespace policy over the cluster default in effect, and warnings for a policy that is
// valid but will not take effect.

const NOW = Date.parse('2026-03-02T10:00:00Z');
const T0 = NOW - 3_600_000;

function request(kind: 'RollbackPolicy' | 'ClusterRollbackPolicy', name: string, spec: unknown, opts: { namespace?: string; operation?: 'CREATE' | 'UPDATE' | 'DELETE'; subResource?: string } = {}): AdmissionRequest {
  const namespace = kind === 'RollbackPolicy' ? (opts.namespace ?? 'shop') : undefined;
  return {
    uid: 'u1',
    kind: { group: 'rollguard.io', version: 'v1alpha1', kind },
    resource: { group: 'rollguard.io', version: 'v1alpha1', resource: kind === 'RollbackPolicy' ? 'rollbackpolicies' : 'clusterrollbackpolicies' },
    ...(opts.subResource === undefined ? {} : { subResource: opts.subResource }),
    name,
    ...(namespace === undefined ? {} : { namespace }),
    operation: opts.operation ?? 'CREATE',
    userInfo: { username: 'alice' },
    object: { apiVersion: 'rollguard.io/v1alpha1', kind, metadata: { name, ...(namespace === undefined ? {} : { namespace }), creationTimestamp: '2026-03-02T10:00:00Z', generation: 1 }, spec },
    oldObject: null,
  };
}

const view = (cluster: PolicyObject[], namespaced: PolicyObject[] = []): PolicyObjectsView => ({ objects: () => ({ cluster, namespaced }) });
const deps = (policies?: PolicyObjectsView) => ({ ownNamespace: 'rollguard', policies });
const object = (kind: PolicyObject['kind'], namespace: string | undefined, name: string, spec: unknown): PolicyObject => ({ kind, namespace, name, generation: 1, createdAt: T0, spec, status: undefined });

describe('R11 the webhook validates policy objects with the policy file’s code (F5)', () => {
  it('rejects an invalid RollbackPolicy with one "spec.field: message" per problem', () => {
    const r = validate(request('RollbackPolicy', 'strict', { windows: { migration: '10m' }, blackout: 'soon' }), deps(), NOW);
    expect(r.verdict.type).toBe('deny');
    if (r.verdict.type !== 'deny') return;
    expect(r.verdict.code).toBe(422);
    expect(r.verdict.message).toBe(
      'RollbackPolicy shop/strict is invalid: spec.windows.migration: windows.migration cannot be shorter than 30m: the migration guard (R4) can be widened, never weakened; spec.blackout: blackout must be a duration such as "15m", "90s" or "1h30m" (got "soon")',
    );
  });

  it('rejects a typo (an unknown field) instead of ignoring it, and an invalid ClusterRollbackPolicy too', () => {
    const typo = validate(request('RollbackPolicy', 'p', { windows: { migraton: '2h' } }), deps(), NOW);
    expect(typo.verdict).toMatchObject({ type: 'deny', message: expect.stringMatching(/^RollbackPolicy shop\/p is invalid: spec\.windows: Unrecognized key: "migraton"/) as unknown });
    const cluster = validate(request('ClusterRollbackPolicy', 'default', { thresholds: { errorRate: 2 } }), deps(), NOW);
    expect(cluster.verdict).toMatchObject({ type: 'deny', message: expect.stringMatching(/^ClusterRollbackPolicy default is invalid: spec\.thresholds\.errorRate: .*must be below 1/) as unknown });
  });

  it('F3 never repeats a credential written inline', () => {
    const r = validate(request('RollbackPolicy', 'p', { notifications: { slack: { botToken: 'xoxb-123-SECRET', channel: '#x' } } }), deps(), NOW);
    expect(r.verdict.type).toBe('deny');
    expect(JSON.stringify(r)).not.toContain('SECRET');
  });

  it('validates a namespace policy over the cluster default in effect', () => {
    const spec = { notifications: { slack: { channel: '#shop' } } };
    const clusterDefault = object('ClusterRollbackPolicy', undefined, 'default', { notifications: { slack: { botToken: { name: 's', key: 'token' }, channel: '#ops' } } });
    expect(validate(request('RollbackPolicy', 'p', spec), deps(view([clusterDefault])), NOW).verdict).toEqual({ type: 'allow' });
    expect(validate(request('RollbackPolicy', 'p', spec), deps(view([])), NOW).verdict).toMatchObject({ type: 'deny', message: expect.stringMatching(/spec\.notifications\.slack: needs botToken/) as unknown });
  });

  it('admits a valid policy that will not take effect, saying why', () => {
    const older = object('RollbackPolicy', 'shop', 'first', { mode: 'suggest' });
    const second = validate(request('RollbackPolicy', 'second', { mode: 'off' }), deps(view([], [older])), NOW);
    expect(second.verdict).toEqual({ type: 'allow', warnings: [expect.stringMatching(/^rollguard: RollbackPolicy shop\/second will not take effect: namespace shop has an older RollbackPolicy, first, which takes effect/)] });
    const notDefault = validate(request('ClusterRollbackPolicy', 'strict', { mode: 'off' }), deps(), NOW);
    expect(notDefault.verdict).toEqual({ type: 'allow', warnings: [expect.stringMatching(/will not take effect: only the ClusterRollbackPolicy named "default" takes effect/)] });
  });

  it('warns when a new cluster default would make a namespace policy invalid', () => {
    const shop = object('RollbackPolicy', 'shop', 'p', { notifications: { slack: { channel: '#shop' } } });
    const current = object('ClusterRollbackPolicy', undefined, 'default', { notifications: { slack: { botToken: { name: 's', key: 'token' }, channel: '#ops' } } });
    const r = validate(request('ClusterRollbackPolicy', 'default', { notifications: { slack: null } }, { operation: 'UPDATE' }), deps(view([current], [shop])), NOW);
    expect(r.verdict).toEqual({ type: 'allow', warnings: [expect.stringMatching(/^rollguard: RollbackPolicy shop\/p becomes invalid over this cluster default: .*needs botToken/)] });
  });

  it('leaves the status subresource and deletions alone (the agent writes status; deleting is always allowed)', () => {
    expect(validate(request('RollbackPolicy', 'p', { mode: 'yolo' }, { subResource: 'status', operation: 'UPDATE' }), deps(), NOW).verdict).toEqual({ type: 'allow' });
    expect(validate(request('RollbackPolicy', 'p', { mode: 'yolo' }, { operation: 'DELETE' }), deps(), NOW).verdict).toEqual({ type: 'allow' });
  });
});

describe('F5 a policy denial through the HTTPS webhook', () => {
  it('is an AdmissionReview answer with code 422, reason Invalid and the field path', async () => {
    const hook = await startTestWebhook({ now: NOW });
    try {
      const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: request('RollbackPolicy', 'strict', { windows: { migration: '10m' } }) } as unknown as Review;
      const res: ReviewResponse = await hook.review('/validate', review);
      expect(res.response).toMatchObject({ uid: 'u1', allowed: false, status: { code: 422, reason: 'Invalid', message: expect.stringMatching(/spec\.windows\.migration: windows\.migration cannot be shorter than 30m/) as unknown } });
    } finally {
      await hook.close();
    }
  });
});

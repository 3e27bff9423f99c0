import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { toPolicyObject, type PolicyObject, type PolicyStatus } from '../../src/core/policy-objects.js';
import { effectiveFor, resolvePolicyObjects } from '../../src/core/policy-resolution.js';
import { sameStatus, statusFor } from '../../src/core/policy-status.js';

const T0 = Date.parse('2026-03-02T10:00:00Z');

function rbp(namespace: string, name: string, spec: unknown, opts: { at?: number; generation?: number; status?: PolicyStatus } = {}): PolicyObject {
  return { kind: 'RollbackPolicy', namespace, name, generation: opts.generation ?? 1, createdAt: opts.at ?? T0, spec, status: opts.status };
}

function crbp(name: string, spec: unknown, opts: { generation?: number; status?: PolicyStatus } = {}): PolicyObject {
  return { kind: 'ClusterRollbackPolicy', namespace: undefined, name, generation: opts.generation ?? 1, createdAt: T0, spec, status: opts.status };
}

const statusOf = (r: ReturnType<typeof resolvePolicyObjects>, key: string) => r.statuses.get(key)?.status;

describe('R11 which policy object takes effect', () => {
  it('the cluster default is the ClusterRollbackPolicy named default; another name is reported NotDefault and ignored', () => {
    const r = resolvePolicyObjects([crbp('strict', { mode: 'off' }), crbp('default', { blackout: '20m' })], []);
    expect(r.cluster.policy.blackoutMs).toBe(20 * 60_000);
    expect(r.cluster.policy.mode).toBe('auto');
    expect(statusOf(r, 'ClusterRollbackPolicy//strict')).toMatchObject({ accepted: false, reason: 'NotDefault', message: expect.stringMatching(/only the ClusterRollbackPolicy named "default"/) as unknown });
    expect(statusOf(r, 'ClusterRollbackPolicy//default')).toMatchObject({ accepted: true, reason: 'Valid', applied: { generation: 1, spec: { blackout: '20m' } } });
  });

  it('a namespace policy overrides the cluster default field by field; other namespaces get the cluster default', () => {
    const r = resolvePolicyObjects([crbp('default', { mode: 'suggest', blackout: '20m' })], [rbp('shop', 'p', { mode: 'auto' })]);
    expect(effectiveFor(r, 'shop').policy).toMatchObject({ mode: 'auto', blackoutMs: 20 * 60_000 });
    expect(effectiveFor(r, 'other').policy).toMatchObject({ mode: 'suggest', blackoutMs: 20 * 60_000 });
  });

  it('with two in one namespace the oldest takes effect; the newer is Conflicting and names it', () => {
    const older = rbp('shop', 'zeta', { mode: 'suggest' }, { at: T0 });
    const newer = rbp('shop', 'alpha', { mode: 'off' }, { at: T0 + 60_000 });
    for (const order of [[older, newer], [newer, older]]) {
      const r = resolvePolicyObjects([], order);
      expect(effectiveFor(r, 'shop').policy.mode).toBe('suggest');
      expect(effectiveFor(r, 'shop').governedBy).toEqual({ kind: 'RollbackPolicy', namespace: 'shop', name: 'zeta' });
      expect(statusOf(r, 'RollbackPolicy/shop/alpha')).toMatchObject({ accepted: false, reason: 'Conflicting', applied: undefined });
      expect(statusOf(r, 'RollbackPolicy/shop/alpha')?.message).toMatch(/older RollbackPolicy, zeta, which takes effect/);
      expect(statusOf(r, 'RollbackPolicy/shop/zeta')?.accepted).toBe(true);
    }
  });

  it('created in the same second, the name decides; once the oldest is deleted, the next one takes effect', () => {
    const r = resolvePolicyObjects([], [rbp('shop', 'b', { mode: 'off' }), rbp('shop', 'a', { mode: 'suggest' })]);
    expect(effectiveFor(r, 'shop').policy.mode).toBe('suggest');
    const after = resolvePolicyObjects([], [rbp('shop', 'b', { mode: 'off' })]);
    expect(effectiveFor(after, 'shop').policy.mode).toBe('off');
    expect(statusOf(after, 'RollbackPolicy/shop/b')?.accepted).toBe(true);
  });

  it('validates a namespace policy over the cluster default in effect (settings it inherits count)', () => {
    const botToken = { name: 'slack', key: 'token' };
    const nsSpec = { notifications: { slack: { channel: '#shop' } } };
    const withBot = resolvePolicyObjects([crbp('default', { notifications: { slack: { botToken, channel: '#ops' } } })], [rbp('shop', 'p', nsSpec)]);
    expect(statusOf(withBot, 'RollbackPolicy/shop/p')?.accepted).toBe(true);
    expect(effectiveFor(withBot, 'shop').policy.notifications.slack).toMatchObject({ botToken, channel: '#shop' });
    const alone = resolvePolicyObjects([], [rbp('shop', 'p', nsSpec)]);
    expect(statusOf(alone, 'RollbackPolicy/shop/p')).toMatchObject({ accepted: false, reason: 'Invalid' });
    expect(statusOf(alone, 'RollbackPolicy/shop/p')?.message).toMatch(/spec\.notifications\.slack: needs botToken/);
  });
});

describe('F1 an invalid policy never makes rollguard more permissive', () => {
  const lastValid: PolicyStatus = { observedGeneration: 2, appliedGeneration: 2, appliedSpec: { mode: 'suggest', windows: { migration: '2h' } } };

  it('the last valid version recorded in the status keeps applying, and the status says so with the field path', () => {
    const r = resolvePolicyObjects([], [rbp('shop', 'p', { mode: 'auto', windows: { migration: '10m' } }, { generation: 3, status: lastValid })]);
    const e = effectiveFor(r, 'shop');
    expect(e.policy.mode).toBe('suggest');
    expect(e.policy.migrationWindowMs).toBe(2 * 3_600_000);
    expect(e).toMatchObject({ generation: 2, lastValid: true, doubt: undefined });
    const s = statusOf(r, 'RollbackPolicy/shop/p');
    expect(s).toMatchObject({ observedGeneration: 3, accepted: false, reason: 'Invalid', applied: { generation: 2, spec: lastValid.appliedSpec } });
    expect(s?.message).toMatch(/^generation 3 is invalid: spec\.windows\.migration: windows\.migration cannot be shorter than 30m.*; generation 2, the last valid one, keeps applying \(F1\)$/);
  });

  it('with no valid version known, the namespace gets the cluster default with mode at most suggest, never the built-in auto', () => {
    const r = resolvePolicyObjects([], [rbp('shop', 'p', { mode: 'auto', blackout: 'soon' })]);
    const e = effectiveFor(r, 'shop');
    expect(e.policy).toEqual({ ...DEFAULT_POLICY, mode: 'suggest' });
    expect(e.doubt).toMatch(/RollbackPolicy shop\/p is invalid and no valid version of it is known/);
    expect(statusOf(r, 'RollbackPolicy/shop/p')?.message).toMatch(/spec\.blackout: blackout must be a duration.*the cluster default applies with mode at most suggest \(F1\)/);
    const off = resolvePolicyObjects([crbp('default', { mode: 'off' })], [rbp('shop', 'p', { blackout: 'soon' })]);
    expect(effectiveFor(off, 'shop').policy.mode).toBe('off');
  });

  it('a last valid version that no longer passes is no better than none', () => {
    const r = resolvePolicyObjects([], [rbp('shop', 'p', { blackout: 'soon' }, { generation: 2, status: { appliedGeneration: 1, appliedSpec: { mode: 'sometimes' } } })]);
    expect(effectiveFor(r, 'shop').policy.mode).toBe('suggest');
    expect(statusOf(r, 'RollbackPolicy/shop/p')?.applied).toBeUndefined();
  });

  it('an invalid cluster default keeps its last valid version for every namespace', () => {
    const r = resolvePolicyObjects([crbp('default', { thresholds: { errorRate: 5 } }, { generation: 4, status: { appliedGeneration: 3, appliedSpec: { mode: 'off' } } })], [rbp('shop', 'p', { blackout: '20m' })]);
    expect(r.cluster.policy.mode).toBe('off');
    expect(effectiveFor(r, 'shop').policy).toMatchObject({ mode: 'off', blackoutMs: 20 * 60_000 });
    expect(effectiveFor(r, 'other').policy.mode).toBe('off');
  });

  it('a cluster default in doubt caps every namespace, even one whose own policy says auto', () => {
    const r = resolvePolicyObjects([crbp('default', { mode: 'yolo' })], [rbp('shop', 'p', { mode: 'auto' })]);
    expect(r.cluster.policy.mode).toBe('suggest');
    expect(effectiveFor(r, 'other').policy.mode).toBe('suggest');
    expect(effectiveFor(r, 'shop').policy.mode).toBe('suggest');
    expect(effectiveFor(r, 'shop').doubt).toMatch(/the cluster default is in doubt: ClusterRollbackPolicy default is invalid/);
    expect(statusOf(r, 'RollbackPolicy/shop/p')?.accepted).toBe(true);
  });
});

describe('R11 the status written for a policy object', () => {
  const desired = { observedGeneration: 2, accepted: false, reason: 'Invalid' as const, message: 'generation 2 is invalid: …', applied: { generation: 1, spec: { mode: 'suggest' } } };

  it('has one Accepted condition, observedGeneration and the applied spec; its transition time moves only when Accepted flips', () => {
    const first = statusFor(desired, undefined, T0);
    expect(first).toEqual({
      observedGeneration: 2,
      conditions: [{ type: 'Accepted', status: 'False', reason: 'Invalid', message: 'generation 2 is invalid: …', observedGeneration: 2, lastTransitionTime: '2026-03-02T10:00:00Z' }],
      appliedGeneration: 1,
      appliedSpec: { mode: 'suggest' },
    });
    const again = statusFor({ ...desired, message: 'generation 3 is invalid: …', observedGeneration: 3 }, first, T0 + 60_000);
    expect(again.conditions?.[0]?.lastTransitionTime).toBe('2026-03-02T10:00:00Z');
    const flipped = statusFor({ ...desired, accepted: true, reason: 'Valid' }, first, T0 + 60_000);
    expect(flipped.conditions?.[0]?.lastTransitionTime).toBe('2026-03-02T10:01:00Z');
  });

  it('needs no write when only key order or the transition time differ, and one when anything else does', () => {
    const a = statusFor(desired, undefined, T0);
    const reordered = JSON.parse(JSON.stringify({ appliedSpec: a.appliedSpec, appliedGeneration: a.appliedGeneration, conditions: a.conditions, observedGeneration: a.observedGeneration })) as PolicyStatus;
    expect(sameStatus(a, reordered)).toBe(true);
    expect(sameStatus(a, statusFor(desired, undefined, T0 + 1000))).toBe(true);
    expect(sameStatus(a, statusFor({ ...desired, applied: undefined }, undefined, T0))).toBe(false);
    expect(sameStatus(a, statusFor({ ...desired, applied: { generation: 1, spec: { mode: 'off' } } }, undefined, T0))).toBe(false);
    expect(sameStatus(a, undefined)).toBe(false);
  });

  it('reads objects as the apiserver serves them', () => {
    const o = toPolicyObject('RollbackPolicy', {
      metadata: { name: 'p', namespace: 'shop', generation: 3, creationTimestamp: '2026-03-02T10:00:00Z' },
      spec: { mode: 'off' },
      status: { observedGeneration: 3, appliedGeneration: 2, appliedSpec: { mode: 'suggest' }, conditions: [] },
    });
    expect(o).toEqual({ kind: 'RollbackPolicy', namespace: 'shop', name: 'p', generation: 3, createdAt: T0, spec: { mode: 'off' }, status: { observedGeneration: 3, appliedGeneration: 2, appliedSpec: { mode: 'suggest' }, conditions: [] } });
    expect(toPolicyObject('ClusterRollbackPolicy', { metadata: { name: 'default', namespace: 'x' } }).namespace).toBeUndefined();
  });
});

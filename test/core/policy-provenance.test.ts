import { describe, expect, it } from 'vitest';
import type { PolicyObject } from '../../src/core/policy-objects.js';
import { explainResolution } from '../../src/core/policy-provenance.js';
import { resolvePolicyObjects } from '../../src/core/policy-resolution.js';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const object = (kind: PolicyObject['kind'], namespace: string | undefined, name: string, spec: unknown, extra: Partial<PolicyObject> = {}): PolicyObject => ({ kind, namespace, name, generation: 1, createdAt: T0, spec, status: undefined, ...extra });

const originOf = (e: ReturnType<typeof explainResolution>, field: string) => e.fields.find((f) => f.field === field);

describe('R11 where each value of the governing policy comes from', () => {
  const cluster = object('ClusterRollbackPolicy', undefined, 'default', { blackout: '20m', thresholds: { errorRate: 0.05 } });
  const shop = object('RollbackPolicy', 'shop', 'strict', { mode: 'suggest', windows: { migration: '1h' }, thresholds: { minRequests: 500 } }, { generation: 4 });

  it('names the namespace policy, the cluster default or the built-in default for each main field', () => {
    const e = explainResolution(resolvePolicyObjects([cluster], [shop]), 'shop');
    expect(e.governedBy).toBe('RollbackPolicy shop/strict (generation 4) over ClusterRollbackPolicy default (generation 1)');
    expect(originOf(e, 'mode')).toEqual({ field: 'mode', value: 'suggest', from: 'namespace policy (RollbackPolicy shop/strict)' });
    expect(originOf(e, 'windows.migration')).toEqual({ field: 'windows.migration', value: '1h', from: 'namespace policy (RollbackPolicy shop/strict)' });
    expect(originOf(e, 'blackout')).toEqual({ field: 'blackout', value: '20m', from: 'cluster default (ClusterRollbackPolicy default)' });
    expect(originOf(e, 'thresholds.errorRate')).toEqual({ field: 'thresholds.errorRate', value: '0.05', from: 'cluster default (ClusterRollbackPolicy default)' });
    expect(originOf(e, 'thresholds.minRequests')).toEqual({ field: 'thresholds.minRequests', value: '500', from: 'namespace policy (RollbackPolicy shop/strict)' });
    expect(originOf(e, 'windows.onset')).toEqual({ field: 'windows.onset', value: '15m', from: 'built-in default' });
    expect(originOf(e, 'serviceLabel')).toEqual({ field: 'serviceLabel', value: 'app.kubernetes.io/name', from: 'built-in default' });
    expect(e.notes).toEqual([]);
  });

  it('R5: names the metric label settings apart from the Deployment serviceLabel, the preset\'s when unset', () => {
    const labelled = object('RollbackPolicy', 'shop', 'labels', { serviceLabel: 'app', metrics: { serviceLabel: 'destination_app', namespaceLabel: '' } });
    const e = explainResolution(resolvePolicyObjects([cluster], [labelled]), 'shop');
    const from = 'namespace policy (RollbackPolicy shop/labels)';
    expect(originOf(e, 'serviceLabel')).toEqual({ field: 'serviceLabel', value: 'app', from });
    expect(originOf(e, 'metrics.serviceLabel')).toEqual({ field: 'metrics.serviceLabel', value: 'destination_app', from });
    expect(originOf(e, 'metrics.namespaceLabel')).toEqual({ field: 'metrics.namespaceLabel', value: 'none (match on the service label alone)', from });
    expect(originOf(e, 'metrics.statusLabel')).toEqual({ field: 'metrics.statusLabel', value: "the preset's", from: 'built-in default' });
    // Told what the preset names, it says so; a policy's own setting stays its own.
    const named = explainResolution(resolvePolicyObjects([cluster], [labelled]), 'shop', () => ({ serviceLabel: 'x', namespaceLabel: 'y', statusLabel: 'grpc_code', podLabel: 'pod' }));
    expect(originOf(named, 'metrics.statusLabel')?.value).toBe("the preset's: grpc_code");
    expect(originOf(named, 'metrics.serviceLabel')?.value).toBe('destination_app');
    expect(originOf(e, 'metrics.podLabel')).toEqual({ field: 'metrics.podLabel', value: "the preset's", from: 'built-in default' });
  });

  it('R1: names the pod label setting and where it came from; empty says errors are not traced to revisions', () => {
    const podless = object('RollbackPolicy', 'shop', 'podless', { metrics: { podLabel: '' } });
    const e = explainResolution(resolvePolicyObjects([cluster], [podless]), 'shop');
    expect(originOf(e, 'metrics.podLabel')).toEqual({ field: 'metrics.podLabel', value: 'none (errors are not traced to revisions)', from: 'namespace policy (RollbackPolicy shop/podless)' });
  });

  it('a namespace without a policy of its own is governed by the cluster default, or by the built-in defaults', () => {
    const e = explainResolution(resolvePolicyObjects([cluster], [shop]), 'other');
    expect(e.governedBy).toBe('ClusterRollbackPolicy default (generation 1)');
    expect(originOf(e, 'mode')?.from).toBe('built-in default');
    expect(explainResolution(resolvePolicyObjects([], []), 'other').governedBy).toBe('built-in defaults');
  });

  it('says when the last valid version applies, and when the mode is capped because nothing valid is known (F1)', () => {
    const broken = { ...shop, generation: 5, spec: { mode: 'auto', blackout: 'soon' }, status: { appliedGeneration: 4, appliedSpec: shop.spec } };
    const e = explainResolution(resolvePolicyObjects([cluster], [broken]), 'shop');
    expect(e.governedBy).toMatch(/^RollbackPolicy shop\/strict \(generation 4, its last valid version: the current one is invalid\)/);
    expect(originOf(e, 'mode')?.value).toBe('suggest');
    const none = explainResolution(resolvePolicyObjects([cluster], [{ ...broken, status: undefined }]), 'shop');
    expect(none.governedBy).toMatch(/^RollbackPolicy shop\/strict \(invalid, no valid version known\)/);
    expect(originOf(none, 'mode')).toMatchObject({ value: 'suggest', from: 'built-in default, at most suggest (F1)' });
    expect(originOf(none, 'blackout')?.from).toBe('cluster default (ClusterRollbackPolicy default)');
    expect(none.notes).toEqual([expect.stringMatching(/^mode is at most suggest \(F1\): RollbackPolicy shop\/strict is invalid/)]);
  });
});

import { describe, expect, it } from 'vitest';
import { parsePolicySet, resolver } from '../../src/policy/policy-file.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';

describe('R11 webhook policy file', () => {
  it('resolves the cluster default and per-namespace overrides on top of it', () => {
    const r = parsePolicySet({ default: { mode: 'suggest', windows: { configChange: '45m' } }, namespaces: { payments: { mode: 'off' }, shop: { mode: 'auto' } } });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const policyFor = resolver(r.set);
    expect(policyFor('other').mode).toBe('suggest');
    expect(policyFor('payments').mode).toBe('off');
    expect(policyFor('shop')).toMatchObject({ mode: 'auto', configWindowMs: 45 * 60_000 });
    expect(policyFor('shop').blackoutMs).toBe(DEFAULT_POLICY.blackoutMs);
  });

  it('an empty document is the built-in default', () => {
    const r = parsePolicySet(null);
    expect(r.ok && resolver(r.set)('x')).toEqual(DEFAULT_POLICY);
  });

  it.each([
    [{ defaults: {} }, 'Unrecognized key'],
    [{ default: { mode: 'yolo' } }, 'default.mode'],
    [{ namespaces: { shop: { blackout: 'ten minutes' } } }, 'namespaces.shop.blackout'],
  ])('names the bad field: %j', (doc, field) => {
    const r = parsePolicySet(doc);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toContain(field);
  });
});

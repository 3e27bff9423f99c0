import fjp from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { reconcileOwnedKeys } from '../../src/admission/owned-keys.js';
import { annotationPatch } from '../../src/admission/patch.js';
import { REUSE_WINDOW_MS, stampTime } from '../../src/admission/stamp-time.js';

const HASH = ANNOTATIONS.templateHash.key;
const UNTIL = ANNOTATIONS.blackoutUntil.key;
const OVERRIDE = ANNOTATIONS.blackoutOverride.key;
const m = (o: Record<string, string>) => new Map(Object.entries(o));

function reconcile(old: Record<string, string>, requested: Record<string, string>, opts: { stamps?: Record<string, string>; trusted?: boolean; templateChanged?: boolean } = {}) {
  const r = reconcileOwnedKeys({ old: m(old), requested: m(requested), stamps: m(opts.stamps ?? {}), trustedWriter: opts.trusted ?? false, templateChanged: opts.templateChanged ?? false });
  return { annotations: Object.fromEntries(r.annotations), warnings: r.warnings };
}

describe('R12 rollguard keys are rollguard’s', () => {
  it.each([
    ['dropped (rollout undo): carried forward silently', { [HASH]: 'a' }, {}, { [HASH]: 'a' }, 0],
    ['changed by a user: put back with a warning', { [HASH]: 'a' }, { [HASH]: 'forged' }, { [HASH]: 'a' }, 1],
    ['added by a user: removed with a warning', {}, { [UNTIL]: '2030-01-01T00:00:00Z' }, {}, 1],
    ['unchanged: left alone', { [HASH]: 'a' }, { [HASH]: 'a' }, { [HASH]: 'a' }, 0],
    ['a user key: free to change', { [OVERRIDE]: 'x', 'team': 'a' }, { [OVERRIDE]: 'y', 'team': 'b' }, { [OVERRIDE]: 'y', 'team': 'b' }, 0],
  ])('%s', (_label, old, requested, expected, warnings) => {
    const r = reconcile(old, requested);
    expect(r.annotations).toEqual(expected);
    expect(r.warnings.length).toBe(warnings);
  });

  it('the trusted agent may set and change owned keys, but a drop is still carried forward', () => {
    expect(reconcile({ [HASH]: 'a', [UNTIL]: 'old' }, { [UNTIL]: 'new' }, { trusted: true }).annotations).toEqual({ [HASH]: 'a', [UNTIL]: 'new' });
  });

  it('stamps win over anything in the request', () => {
    expect(reconcile({ [HASH]: 'a' }, { [HASH]: 'forged' }, { stamps: { [HASH]: 'b' } })).toEqual({ annotations: { [HASH]: 'b' }, warnings: [] });
  });

  it('a template change spends an override carried over from before, not one set in this request', () => {
    expect(reconcile({ [OVERRIDE]: 'x' }, { [OVERRIDE]: 'x' }, { templateChanged: true }).annotations).toEqual({});
    expect(reconcile({}, { [OVERRIDE]: 'x' }, { templateChanged: true }).annotations).toEqual({ [OVERRIDE]: 'x' });
    expect(reconcile({ [OVERRIDE]: 'x' }, { [OVERRIDE]: 'x' }, { templateChanged: false }).annotations).toEqual({ [OVERRIDE]: 'x' });
  });
});

describe('R12 annotation patches', () => {
  it.each([
    ['no metadata', {}, { a: '1' }],
    ['null annotations', { metadata: { annotations: null } }, { 'rollguard.io/x': '1' }],
    ['no annotations', { metadata: { name: 'n' } }, { 'rollguard.io/x': '1' }],
    ['add, replace and remove', { metadata: { annotations: { keep: '1', 'rollguard.io/x': 'old', gone: '2' } } }, { keep: '1', 'rollguard.io/x': 'new', 'a~b/c': '3' }],
  ])('%s: applying the patch gives exactly the wanted annotations', (_label, object, wanted) => {
    const ops = annotationPatch(object, m(wanted));
    const out = fjp.applyPatch(structuredClone(object), ops, true, false).newDocument as { metadata: { annotations: unknown } };
    expect(out.metadata.annotations).toEqual(wanted);
    expect(annotationPatch(out, m(wanted))).toEqual([]);
  });

  it('escapes "/" and "~" in keys', () => {
    const ops = annotationPatch({ metadata: { annotations: {} } }, m({ 'rollguard.io/a~b': 'v' }));
    expect(ops).toEqual([{ op: 'add', path: '/metadata/annotations/rollguard.io~1a~0b', value: 'v' }]);
  });
});

describe('R12 reinvocation reuses a fresh stamp time, never an old or forged one', () => {
  const now = Date.parse('2026-03-02T10:05:00Z');
  it.each([
    ['absent', undefined, undefined, now],
    ['fresh and new in this request', '2026-03-02T10:04:50Z', undefined, Date.parse('2026-03-02T10:04:50Z')],
    ['copied from the stored object', '2026-03-02T10:04:50Z', '2026-03-02T10:04:50Z', now],
    ['older than the reuse window', new Date(now - REUSE_WINDOW_MS - 1).toISOString(), undefined, now],
    ['in the future', '2026-03-02T10:06:00Z', undefined, now],
    ['not canonical', '2026-03-02T10:04:50.000+00:00', undefined, now],
    ['garbage', 'yesterday', undefined, now],
  ])('%s', (_label, requested, old, expected) => {
    expect(stampTime(requested, old, now)).toBe(expected);
  });
});

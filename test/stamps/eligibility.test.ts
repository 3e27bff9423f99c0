import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { configEvents, judgeEligibility } from '../../src/stamps/eligibility.js';
import { InMemoryStampCache } from '../../src/stamps/stamp-cache.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { deployRefs } from '../../src/core/template-refs.js';
import { deployment, min, T0, withConfig } from '../support/builders.js';

const iso = (ms: number) => new Date(ms).toISOString();
const before = deployment({ image: 'app:1', pod: withConfig('cfg-a', 'db') });
const after = deployment({ image: 'app:2', pod: withConfig('cfg-a', 'db') });
const switched = deployment({ image: 'app:2', pod: withConfig('cfg-b', 'db') });

function cache(entries: [kind: 'ConfigMap' | 'Secret', name: string, created: number | undefined, changed: number | undefined][], synced = true): InMemoryStampCache {
  const c = new InMemoryStampCache({ synced });
  for (const [kind, name, created, changed] of entries) {
    const annotations: Record<string, string> = {};
    if (created !== undefined) annotations[ANNOTATIONS.createdAt.key] = iso(created);
    if (changed !== undefined) annotations[ANNOTATIONS.contentChangedAt.key] = iso(changed);
    c.upsert(kind, { namespace: 'shop', name, annotations });
  }
  return c;
}

const stable = (): InMemoryStampCache => cache([['ConfigMap', 'cfg-a', min(-600), min(-600)], ['Secret', 'db', min(-600), min(-600)]]);

describe('R3 eligibility at admission', () => {
  it.each([
    ['only the image changed, config stamped long ago', before, after, stable(), 'pod-spec-only', 'eligible'],
    ['the template switched to a newly created ConfigMap (hash-suffixed config)', before, switched, (() => {
      const c = stable();
      c.upsert('ConfigMap', { namespace: 'shop', name: 'cfg-b', annotations: { [ANNOTATIONS.createdAt.key]: iso(min(-2)), [ANNOTATIONS.contentChangedAt.key]: iso(min(-2)) } });
      return c;
    })(), 'pod-spec-only', 'eligible'],
    ['the ConfigMap changed in place 10 minutes before', before, after, cache([['ConfigMap', 'cfg-a', min(-600), min(-10)], ['Secret', 'db', min(-600), min(-600)]]), 'mixed', 'human-required'],
    ['the Secret has no rollguard stamp', before, after, cache([['ConfigMap', 'cfg-a', min(-600), min(-600)], ['Secret', 'db', undefined, undefined]]), 'unknown', 'human-required'],
    ['the stamp cache has not synced', before, after, cache([['ConfigMap', 'cfg-a', min(-600), min(-600)], ['Secret', 'db', min(-600), min(-600)]], false), 'unknown', 'human-required'],
  ])('%s', (_label, b, a, c, kind, eligibility) => {
    const r = judgeEligibility({ before: b, after: a, deployStart: T0, policy: DEFAULT_POLICY, cache: c });
    expect(r.changeSet.kind).toBe(kind);
    expect(r.eligibility).toBe(eligibility);
    // The refs the webhook's prefetch read already give the same judgement.
    expect(judgeEligibility({ before: b, after: a, deployStart: T0, policy: DEFAULT_POLICY, cache: c, refs: deployRefs(b.spec?.template, a.spec?.template) })).toEqual(r);
    expect(r.reasons.length === 0).toBe(eligibility === 'eligible');
  });

  it('F1: an unstamped object is unknown unless the apiserver shows it untouched since before the window', () => {
    const untouched = (time: number | undefined) => {
      const c = cache([['ConfigMap', 'cfg-a', min(-600), min(-600)]]);
      c.upsert('Secret', { namespace: 'shop', name: 'db', annotations: {}, ...(time === undefined ? {} : { managedFields: [{ time: iso(min(-800)) }, { time: iso(time) }] }) });
      return judgeEligibility({ before, after, deployStart: T0, policy: DEFAULT_POLICY, cache: c });
    };
    expect(untouched(min(-31)).changeSet.kind).toBe('pod-spec-only');
    expect(untouched(min(-31)).eligibility).toBe('eligible');
    expect(untouched(min(-30)).changeSet.kind).toBe('unknown');
    expect(untouched(min(-5)).changeSet.reasons.join()).toMatch(/Secret db .* whether its content changed is not known/);
    // Without managedFields nothing bounds the last write.
    expect(untouched(undefined).changeSet.kind).toBe('unknown');
    const noTimes = cache([['ConfigMap', 'cfg-a', min(-600), min(-600)], ['Secret', 'db', undefined, undefined]]);
    expect(judgeEligibility({ before, after, deployStart: T0, policy: DEFAULT_POLICY, cache: noTimes }).changeSet.kind).toBe('unknown');
  });

  it('a deleted ConfigMap the old template read is a delete event at its deletion time', () => {
    const c = stable();
    c.remove('ConfigMap', { namespace: 'shop', name: 'cfg-a' }, min(-3));
    expect(configEvents(c, 'shop', before, switched, T0, min(-30))).toContainEqual({ type: 'config-change', namespace: 'shop', kind: 'ConfigMap', name: 'cfg-a', at: min(-3), action: 'delete', content: 'changed' });
    expect(judgeEligibility({ before, after: switched, deployStart: T0, policy: DEFAULT_POLICY, cache: c }).changeSet.kind).toBe('mixed');
  });

  it('policy mode suggest and an Argo CD owner each require a human, with the reason', () => {
    const argo = deployment({ image: 'app:2', pod: withConfig('cfg-a', 'db'), labels: { 'argocd.argoproj.io/instance': 'shop' } });
    const r1 = judgeEligibility({ before, after, deployStart: T0, policy: { ...DEFAULT_POLICY, mode: 'suggest' }, cache: stable() });
    expect(r1.reasons.join()).toContain('"suggest"');
    const r2 = judgeEligibility({ before, after: argo, deployStart: T0, policy: DEFAULT_POLICY, cache: stable() });
    expect(r2.eligibility).toBe('human-required');
    expect(r2.reasons.join()).toContain('argocd');
    expect(judgeEligibility({ before, after: argo, deployStart: T0, policy: { ...DEFAULT_POLICY, gitops: 'auto' }, cache: stable() }).eligibility).toBe('eligible');
  });
});

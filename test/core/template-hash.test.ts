import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PodTemplateSpec } from '../../src/core/kube.js';
import { earlierRevision, formatTemplateHistory, parseTemplateHistory, pushTemplateHistory, sameTemplate, TEMPLATE_HISTORY_LIMIT, templateHash } from '../../src/core/template-hash.js';
import { deployment, T0 } from '../support/builders.js';

const template = (image: string) => deployment({ image }).spec?.template;

describe('R8 R12 canonical template hash', () => {
  it('is the same whatever the key order, and differs when the template differs', () => {
    const a = template('app:1');
    const reordered = JSON.parse(JSON.stringify({ spec: a?.spec, metadata: a?.metadata })) as typeof a;
    expect(templateHash(reordered)).toBe(templateHash(a));
    expect(templateHash(template('app:2'))).not.toBe(templateHash(a));
    expect(templateHash(a)).toMatch(/^sha256:[0-9a-f]{20}$/);
  });

  it("ignores the controller's pod-template-hash label (ReplicaSet templates carry it, rollout undo strips it)", () => {
    const a = template('app:1');
    const withLabel = structuredClone(a);
    if (withLabel?.metadata) withLabel.metadata.labels = { ...withLabel.metadata.labels, 'pod-template-hash': '5d8f7c9b6' };
    expect(templateHash(withLabel)).toBe(templateHash(a));
  });
});

describe('R8 template history', () => {
  const h = (n: number) => `sha256:${n.toString().padStart(20, '0')}`;

  it('keeps the newest first, each hash once, bounded', () => {
    let history = parseTemplateHistory(undefined);
    for (let i = 0; i < TEMPLATE_HISTORY_LIMIT + 5; i++) history = pushTemplateHistory(history, undefined, { hash: h(i % 12), at: T0 + i });
    expect(history.length).toBe(TEMPLATE_HISTORY_LIMIT);
    expect(history[0]?.hash).toBe(h((TEMPLATE_HISTORY_LIMIT + 4) % 12));
    expect(new Set(history.map((e) => e.hash)).size).toBe(history.length);
  });

  it('adds the replaced template when the old history does not list it (installed mid-life)', () => {
    const history = pushTemplateHistory([], { hash: h(1), at: undefined }, { hash: h(2), at: T0 });
    expect(history.map((e) => e.hash)).toEqual([h(2), h(1)]);
    expect(earlierRevision(history, h(2), h(1))).toEqual({ hash: h(1), at: undefined });
  });

  it('round-trips through the annotation and reads garbage as empty', () => {
    const history = [{ hash: h(3), at: T0 }, { hash: h(2), at: undefined }];
    expect(parseTemplateHistory(formatTemplateHistory(history))).toEqual(history);
    for (const bad of ['', 'nope', '{}', '[1,{"hash":5}]', 'null']) expect(parseTemplateHistory(bad)).toEqual([]);
  });

  it.each([
    ['a rollback to an earlier template', h(1), h(2), true],
    ['a template never seen', h(1), h(9), false],
    ['no template change', h(1), h(1), false],
  ])('%s', (_label, oldHash, newHash, rollback) => {
    const history = [{ hash: h(1), at: T0 }, { hash: h(2), at: T0 - 1 }];
    expect(earlierRevision(history, oldHash, newHash) !== undefined).toBe(rollback);
  });
});

describe('R8 sameTemplate decides what the two hashes would', () => {
  const base = template('app:1');
  interface Variant {
    image: string;
    controllerLabel: string | undefined;
    extraLabel: string | undefined;
    reorder: boolean;
    env: { name?: string; value?: string }[] | undefined;
    absentTemplate: boolean;
  }
  const variants: fc.Arbitrary<Variant> = fc.record({
    image: fc.constantFrom('app:1', 'app:2'),
    controllerLabel: fc.constantFrom(undefined, '5d8f7c9b6', '7c9b65d8f'),
    extraLabel: fc.constantFrom(undefined, 'x', 'y'),
    reorder: fc.boolean(),
    env: fc.constantFrom(undefined, [], [{ name: 'A', value: '1' }], [{ name: 'A', value: undefined }], [{ value: '1', name: 'A' }]),
    absentTemplate: fc.constantFrom(false, false, false, true),
  });
  const build = (v: Variant): PodTemplateSpec | undefined => {
    if (v.absentTemplate) return undefined;
    const t = structuredClone(template(v.image)) as PodTemplateSpec;
    const labels: Record<string, string> = { ...t.metadata?.labels };
    if (v.controllerLabel !== undefined) labels['pod-template-hash'] = v.controllerLabel;
    if (v.extraLabel !== undefined) labels.extra = v.extraLabel;
    t.metadata = { ...t.metadata, labels };
    const container = t.spec?.containers?.[0];
    if (container !== undefined && v.env !== undefined) container.env = v.env as never;
    return v.reorder ? ({ spec: t.spec, metadata: t.metadata }) : t;
  };

  it('is true exactly when templateHash is the same (key order, the controller label, undefined fields, an absent template)', () => {
    expect(sameTemplate(base, structuredClone(base))).toBe(true);
    fc.assert(
      fc.property(variants, variants, (x, y) => {
        const [a, b] = [build(x), build(y)];
        expect(sameTemplate(a, b)).toBe(templateHash(a) === templateHash(b));
      }),
      { numRuns: 2000 },
    );
  });
});

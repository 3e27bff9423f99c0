import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BeforeState, PatchedPath } from '../../src/core/before-state.js';
import { classifyChangeSet } from '../../src/core/changeset.js';
import { decide } from '../../src/core/decide.js';
import type { DecisionInput } from '../../src/core/decision-types.js';
import { patchShape } from '../../src/timeline/patch-paths.js';
import { configChange, min, T0 } from '../support/builders.js';
import { cleanInput } from '../support/scenario.js';

// F1 for the before-state: whatever a patch says, a deploy whose before-state is genuinely not known,
// or whose patch wrote a field outside the pod template, never becomes `auto`. The clean input
// (shop/checkout reading ConfigMap app-config and Secret db) is `auto` with its full before-state.

const base = cleanInput();
const after = base.deploy.after;
if (after === undefined) throw new Error('the clean input has an after object');

function withBefore(beforeKnown: BeforeState | undefined, overrides: Partial<DecisionInput> = {}): DecisionInput {
  return { ...base, ...overrides, deploy: { ...base.deploy, before: undefined, beforeKnown } };
}

const TEMPLATE_WRITES: PatchedPath[] = [
  ['spec', 'template', 'spec', 'containers', '[name=app]', 'image'],
  ['spec', 'template', 'spec', 'containers', '[order]'],
  ['spec', 'template', 'metadata', 'annotations', 'kubectl.kubernetes.io/restartedAt'],
  ['spec', 'template', 'spec', 'containers', '[name=app]', 'env', '[name=A]', 'value'],
  ['spec', 'template', 'spec', 'containers', '[0]', 'resources'],
  ['spec', 'template', 'spec', 'volumes'],
  ['spec', 'template'],
  ['spec', 'replicas'],
  ['metadata', 'labels', 'team'],
];
const OUTSIDE_WRITES: PatchedPath[] = [['spec', 'strategy'], ['spec', 'minReadySeconds'], ['spec', 'selector', 'matchLabels', 'app'], ['spec', 'revisionHistoryLimit'], ['spec'], []];

const patchType = fc.constantFrom('json' as const, 'merge' as const, 'strategic' as const);
const templateWrites = fc.subarray(TEMPLATE_WRITES);
const outsideWrites = fc.subarray(OUTSIDE_WRITES, { minLength: 1 });
const configEvents = fc.array(
  fc.record({ name: fc.constantFrom('app-config', 'db', 'unrelated'), action: fc.constantFrom('create' as const, 'update' as const, 'delete' as const), content: fc.constantFrom('changed' as const, 'unchanged' as const, 'unknown' as const), at: fc.integer({ min: -40, max: 10 }) }),
  { maxLength: 2 },
);
const events = (cs: { name: string; action: 'create' | 'update' | 'delete'; content: 'changed' | 'unchanged' | 'unknown'; at: number }[]) =>
  cs.map((c) => configChange({ ...c, kind: c.name === 'db' ? 'Secret' : 'ConfigMap', at: min(c.at) }));

const runs = { numRuns: 500, seed: 20260302 };

describe('F1 before-state inference never leads to auto', () => {
  it('F1: a before-state that is genuinely not known is never auto, whatever else holds', () => {
    fc.assert(
      fc.property(fc.constantFrom<BeforeState | undefined>(undefined, { how: 'unknown', why: 'server-side apply' }), configEvents, (known, cs) => {
        const decision = decide(withBefore(known, { events: events(cs) }));
        expect(decision.conditions.podSpecOnly.status).not.toBe('met');
        expect(decision.verdict).not.toBe('auto');
      }),
      runs,
    );
  });

  it('F1: a patch that wrote any field outside the pod template is never auto, whichever template fields it wrote too', () => {
    fc.assert(
      fc.property(patchType, templateWrites, outsideWrites, fc.boolean(), configEvents, (type, inside, outside, outsideFirst, cs) => {
        const touched = outsideFirst ? [...outside, ...inside] : [...inside, ...outside];
        const decision = decide(withBefore({ how: 'patch', patchType: type, touched }, { events: events(cs) }));
        expect(decision.conditions.podSpecOnly.status).not.toBe('met');
        expect(decision.verdict).not.toBe('auto');
      }),
      runs,
    );
  });

  it('F1: a patch body with an outside field, of any type, read by the timeline, never leads to auto', () => {
    const outsideField = fc.constantFrom<[string, unknown]>(['strategy', { type: 'Recreate' }], ['minReadySeconds', 5], ['revisionHistoryLimit', 3], ['progressDeadlineSeconds', 60]);
    const image = fc.constantFrom('checkout:1.5.0', 'checkout:1.6.0');
    fc.assert(
      fc.property(patchType, outsideField, image, fc.boolean(), (type, [field, value], img, withEnv) => {
        const containerPatch = { name: 'app', image: img, ...(withEnv ? { env: [{ name: 'A', value: '1' }] } : {}) };
        const body =
          type === 'json'
            ? [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: img }, { op: 'add', path: `/spec/${field}`, value }]
            : { spec: { [field]: value, template: { spec: { ...(type === 'strategic' ? { '$setElementOrder/containers': [{ name: 'app' }] } : {}), containers: [containerPatch] } } } };
        const shape = patchShape(body, '/apis/apps/v1/namespaces/shop/deployments/checkout?fieldManager=kubectl-patch', after);
        if (!('touched' in shape)) throw new Error(`not a derivable patch: ${shape.type}`);
        expect(shape.type).toBe(type);
        const decision = decide(withBefore({ how: 'patch', patchType: shape.type, touched: shape.touched }));
        expect(decision.conditions.podSpecOnly.status).toBe('unknown');
        expect(decision.verdict).not.toBe('auto');
      }),
      runs,
    );
  });

  it('R3: the same patches without the outside field do reach auto when nothing else stands in the way (the properties above are not vacuous)', () => {
    const imageOnly: BeforeState = { how: 'patch', patchType: 'strategic', touched: [TEMPLATE_WRITES[1] ?? [], TEMPLATE_WRITES[0] ?? []] };
    expect(decide(withBefore(imageOnly)).verdict).toBe('auto');
    const json = patchShape([{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'x' }], undefined, after);
    if (!('touched' in json)) throw new Error('not derivable');
    expect(decide(withBefore({ how: 'patch', patchType: 'json', touched: json.touched })).verdict).toBe('auto');
  });
});

describe('R3 how kinds map to the condition', () => {
  const before = base.deploy.before;

  it('R3: a known blocker is mixed and unmet even when the Deployment after the write is not known', () => {
    const blocker = configChange({ name: 'app-config', kind: 'ConfigMap', action: 'update', content: 'changed', at: min(-5) });
    const input: DecisionInput = { ...base, events: [blocker], deploy: { ...base.deploy, after: undefined, beforeKnown: { how: 'object', at: min(-20), source: 'deployments/status update' } } };
    const cs = classifyChangeSet({ before, after: undefined, deployStart: T0, now: input.now, events: input.events, configWindowMs: 30 * 60_000, coverage: { config: true }, namespace: 'shop' });
    expect(cs.kind).toBe('mixed');
    expect(cs.reasons[0]).toMatch(/^ConfigMap app-config \(read by the old template via envFrom of container app\) was changed in place/);
    expect(cs.reasons).toContain('the Deployment as the deploy left it is not known');
    const decision = decide(input);
    expect(decision.conditions.podSpecOnly.status).toBe('unmet');
    expect(decision.conditions.podSpecOnly.evidence).toMatch(/before-state: the full object logged at 2026-03-02T09:40:00Z \(deployments\/status update\)$/);
  });

  it('R3: unknown without a blocker stays unknown; the agent (no beforeKnown) gets no before-state sentence', () => {
    const input: DecisionInput = { ...base, deploy: { ...base.deploy, after: undefined } };
    expect(decide(input).conditions.podSpecOnly).toEqual({ status: 'unknown', evidence: 'the Deployment as the deploy left it is not known' });
    expect(decide(base).conditions.podSpecOnly.evidence).not.toContain('before-state');
    expect(decide(base).verdict).toBe('auto');
  });
});

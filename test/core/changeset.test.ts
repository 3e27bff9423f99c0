import { describe, expect, it } from 'vitest';
import { classifyChangeSet, diffDeployment, type ChangeSetInput } from '../../src/core/changeset.js';
import type { TemplatePart } from '../../src/core/deployment-diff.js';
import { MINUTE } from '../../src/core/duration.js';
import type { PodSpec } from '../../src/core/kube.js';
import { configChange, container, deployment, min, T0, withConfig } from '../support/builders.js';

const before = deployment({ image: 'checkout:1.4.0', pod: withConfig('app-config', 'db') });
const after = deployment({ image: 'checkout:1.5.0', pod: withConfig('app-config', 'db') });

function input(overrides: Partial<ChangeSetInput> = {}): ChangeSetInput {
  return { before, after, deployStart: T0, now: min(10), events: [], configWindowMs: 30 * MINUTE, coverage: { config: true }, ...overrides };
}

describe('R3 deployment diff', () => {
  it('names the template parts that changed', () => {
    const d = diffDeployment(before, after);
    expect(d.templateChanged).toBe(true);
    expect(d.parts).toEqual(['images']);
    expect(d.images).toEqual([{ container: 'app', before: 'checkout:1.4.0', after: 'checkout:1.5.0' }]);
  });

  it.each<[string, Partial<PodSpec>, TemplatePart]>([
    ['env', { containers: [container({ env: [{ name: 'A', value: '2' }] })] }, 'env'],
    ['resources', { containers: [container({ resources: { limits: { cpu: '2' } } })] }, 'resources'],
    ['probes', { containers: [container({ readinessProbe: { httpGet: { path: '/ready', port: 8080 } } })] }, 'probes'],
    ['command', { containers: [container({ args: ['--fast'] })] }, 'command'],
    ['volumes', { volumes: [{ name: 'v', emptyDir: {} }] }, 'volumes'],
    ['other pod fields', { serviceAccountName: 'other' }, 'other'],
  ])('classifies a %s change', (_label, pod, part) => {
    const d = diffDeployment(deployment(), deployment({ pod }));
    expect(d.parts).toContain(part);
    expect(d.parts).not.toContain('images');
  });

  it('counts a container or pod field outside the named parts as other, on whichever side it is set, and an undefined field as absent', () => {
    const image = { image: 'checkout:1.5.0' };
    const parts = (a: Partial<PodSpec>, b: Partial<PodSpec>) => diffDeployment(deployment({ pod: a }), deployment({ pod: b })).parts;
    expect(parts({ containers: [container()] }, { containers: [container({ ...image, imagePullPolicy: 'Always' })] })).toEqual(['images', 'other']);
    expect(parts({ containers: [container({ imagePullPolicy: 'Always' })] }, { containers: [container(image)] })).toEqual(['images', 'other']);
    expect(parts({ containers: [container({ imagePullPolicy: undefined })] }, { containers: [container(image)] })).toEqual(['images']);
    expect(parts({ containers: [container()] }, { containers: [container({ ...image, imagePullPolicy: undefined })] })).toEqual(['images']);
    expect(parts({ containers: [container()], serviceAccountName: 'a' }, { containers: [container(image)] })).toEqual(['images', 'other']);
    expect(parts({ containers: [container()] }, { containers: [container(image)], serviceAccountName: 'a' })).toEqual(['images', 'other']);
    expect(parts({ containers: [container()], serviceAccountName: undefined }, { containers: [container(image)] })).toEqual(['images']);
  });

  it('does not count replicas or pause as part of the deploy, but does count other spec fields', () => {
    expect(diffDeployment(deployment(), deployment({ replicas: 20, paused: true })).outsideTemplate).toEqual([]);
    expect(diffDeployment(deployment(), deployment({ replicas: 20 })).replicasChanged).toBe(true);
    expect(diffDeployment(deployment(), deployment({ strategy: { type: 'Recreate' } })).outsideTemplate).toEqual(['spec.strategy']);
  });

  it('lists references added and removed by the template change', () => {
    const d = diffDeployment(deployment({ pod: withConfig('cfg-aaa') }), deployment({ pod: withConfig('cfg-bbb') }));
    expect(d.refsAdded.map((r) => r.name)).toEqual(['cfg-bbb']);
    expect(d.refsRemoved.map((r) => r.name)).toEqual(['cfg-aaa']);
  });
});

describe('R3 pod-spec-only change set', () => {
  it('is pod-spec-only when only the template changed and no referenced config changed', () => {
    const cs = classifyChangeSet(input());
    expect(cs.kind).toBe('pod-spec-only');
    expect(cs.reasons).toEqual([]);
  });

  it.each([
    ['ConfigMap changed in place', configChange({ name: 'app-config' }), /ConfigMap app-config .* changed in place/],
    ['Secret changed in place', configChange({ name: 'db', kind: 'Secret' }), /Secret db .* changed in place/],
    ['referenced ConfigMap deleted', configChange({ name: 'app-config', action: 'delete' }), /deleted/],
    ['referenced ConfigMap re-created', configChange({ name: 'app-config', action: 'create' }), /re-created/],
  ])('is mixed when a %s', (_label, event, reason) => {
    const cs = classifyChangeSet(input({ events: [event], oldTemplateSince: min(-20) }));
    expect(cs.kind).toBe('mixed');
    expect(cs.reasons.join('\n')).toMatch(reason);
  });

  it('ignores changes to objects the templates do not read, in other namespaces, or metadata-only writes', () => {
    const events = [
      configChange({ name: 'unrelated' }),
      configChange({ name: 'app-config', namespace: 'other' }),
      configChange({ name: 'app-config', content: 'unchanged' }),
    ];
    expect(classifyChangeSet(input({ events })).kind).toBe('pod-spec-only');
  });

  it.each([
    ['exactly 30 min before the deploy', min(-30), 'mixed'],
    ['31 min before the deploy', min(-31), 'pod-spec-only'],
    ['during the rollout', min(5), 'mixed'],
    ['after evaluation time', min(11), 'pod-spec-only'],
  ] as const)('window boundary: a change %s', (_label, at, kind) => {
    expect(classifyChangeSet(input({ events: [configChange({ name: 'app-config', at })] })).kind).toBe(kind);
  });

  // Whether or not the old template's start is known (and it is long before this create): only the new template reads it.
  it.each([undefined, min(-10)])('counts a switch to a newly created hash-suffixed ConfigMap as reversible while the old one is unchanged (old template since %s)', (oldTemplateSince) => {
    const cs = classifyChangeSet(
      input({
        before: deployment({ pod: withConfig('app-config-5c2a') }),
        after: deployment({ pod: withConfig('app-config-7f8d') }),
        events: [configChange({ name: 'app-config-7f8d', action: 'create', at: min(-2) })],
        oldTemplateSince,
      }),
    );
    expect(cs.kind).toBe('pod-spec-only');
    expect(cs.notes.join('\n')).toMatch(/app-config-7f8d was newly created .* reversible/);
  });

  it('is mixed when the hash-suffixed switch deleted the old ConfigMap', () => {
    const cs = classifyChangeSet(
      input({
        before: deployment({ pod: withConfig('app-config-5c2a') }),
        after: deployment({ pod: withConfig('app-config-7f8d') }),
        events: [configChange({ name: 'app-config-7f8d', action: 'create', at: min(-2) }), configChange({ name: 'app-config-5c2a', action: 'delete', at: min(1) })],
      }),
    );
    expect(cs.kind).toBe('mixed');
    expect(cs.reasons.join('\n')).toMatch(/app-config-5c2a .* old template .* deleted/);
  });

  it('is mixed when a spec field outside the template changed', () => {
    const cs = classifyChangeSet(input({ after: deployment({ image: 'checkout:1.5.0', pod: withConfig('app-config', 'db'), strategy: { type: 'Recreate' } }) }));
    expect(cs.kind).toBe('mixed');
    expect(cs.reasons[0]).toMatch(/spec.strategy/);
  });

  it('is mixed when the template did not change at all', () => {
    expect(classifyChangeSet(input({ after: before })).kind).toBe('mixed');
  });
});

describe('F1 unknown change sets are never pod-spec-only', () => {
  it.each([
    ['the old object is unknown', { before: undefined }],
    ['the new object is unknown', { after: undefined }],
    ['the deploy start is unknown', { deployStart: undefined }],
    ['config coverage is incomplete', { coverage: { config: false } }],
    ['a referenced ConfigMap was written with unknown content', { events: [configChange({ name: 'app-config', content: 'unknown' })] }],
  ] as const)('is unknown when %s', (_label, overrides) => {
    const cs = classifyChangeSet(input(overrides));
    expect(cs.kind).toBe('unknown');
    expect(cs.reasons.length).toBeGreaterThan(0);
  });

  it('R3: the reason names why config changes are not all visible, when the producer says', () => {
    const evidence = 'the audit policy leaves some Secret db writes in shop out of the log (rule 1 logs it at level None)';
    const cs = classifyChangeSet(input({ coverage: { config: { known: false, evidence } } }));
    expect(cs.kind).toBe('unknown');
    expect(cs.reasons).toEqual([`${evidence}, so config changes are not known`]);
  });

  it('R3: a quiet namespace whose config writes are all logged is pod-spec-only, and the note says how it is known', () => {
    const evidence = 'the audit policy logs every ConfigMap app-config and Secret db write in shop at Metadata (rule 4)';
    const cs = classifyChangeSet(input({ coverage: { config: { known: true, evidence } } }));
    expect(cs.kind).toBe('pod-spec-only');
    expect(cs.notes).toEqual([`no ConfigMap or Secret the templates read changed from 30m before the deploy to now; ${evidence}`]);
  });

  it('reports mixed over unknown when both apply, keeping both reasons', () => {
    const cs = classifyChangeSet(input({ events: [configChange({ name: 'app-config' }), configChange({ name: 'db', kind: 'Secret', content: 'unknown' })] }));
    expect(cs.kind).toBe('mixed');
    expect(cs.reasons).toHaveLength(2);
  });
});

describe('R3 a deletecollection the log cannot see into', () => {
  const sweep = (kind: 'ConfigMap' | 'Secret', minutes = -2) => ({ type: 'config-collection-delete' as const, at: min(minutes), namespace: 'shop', kind, selector: 'labelSelector=team=shop' });

  it('F1 makes every object of its kind the templates read a possible deletion: unknown, never pod-spec-only', () => {
    const cs = classifyChangeSet(input({ events: [sweep('Secret')] }));
    expect(cs.kind).toBe('unknown');
    expect(cs.reasons).toEqual([expect.stringMatching(/^Secret db \(read by the old template .*\) may have been deleted by a deletecollection of Secrets at .* \(selector labelSelector=team=shop\); the log does not say which objects it matched$/)]);
  });

  it('leaves objects of the other kind, and sweeps outside the config window, alone', () => {
    const other = deployment({ image: 'checkout:1.5.0', pod: withConfig('app-config') });
    expect(classifyChangeSet(input({ after: other, before: deployment({ image: 'checkout:1.4.0', pod: withConfig('app-config') }), events: [sweep('Secret')] })).kind).toBe('pod-spec-only');
    expect(classifyChangeSet(input({ events: [sweep('ConfigMap', -31)] })).kind).toBe('pod-spec-only');
  });

  it('a known deletion of a read object stays a blocker beside it', () => {
    const cs = classifyChangeSet(input({ events: [sweep('Secret'), configChange({ name: 'app-config', action: 'delete' })] }));
    expect(cs.kind).toBe('mixed');
  });
});

describe('R3 a config object older than the old template is no change for it', () => {
  const created = (at: number) => configChange({ name: 'app-config', action: 'create', at });
  const deleted = (at: number) => configChange({ name: 'app-config', action: 'delete', at });
  const changed = (at: number) => configChange({ name: 'app-config', at });
  // The old template began running 10 minutes before the deploy.
  const since = min(-10);

  it.each([
    ['created before the old template began running, never deleted', [created(min(-10.5))], 'pod-spec-only', /app-config was created at .*09:49:30Z, before the old template began running \(2026-03-02T09:50:00Z\): its pods have only read this content/],
    ['created at the instant the old template was admitted', [created(since)], 'pod-spec-only', /before the old template began running/],
    ['deleted and re-created, both before the old template began running', [deleted(min(-12)), created(min(-11))], 'pod-spec-only', /its pods have only read this content/],
    ['deleted before the old template began running and re-created after', [deleted(min(-12)), created(min(-8))], 'mixed', /re-created at .*09:52:00Z, after the old template began running .*: its pods ran on an earlier one or without it/],
    ['deleted and re-created after the old template began running', [deleted(min(-8)), created(min(-7))], 'mixed', /deleted at .*09:52:00Z/],
    ['created after the old template began running, no delete seen', [created(min(-9))], 'mixed', /re-created at .*09:51:00Z, after the old template began running/],
    ['created before the old template began running, then changed in place', [created(min(-11)), changed(min(-2))], 'mixed', /changed in place at .*09:58:00Z/],
    ['created before the old template began running, then deleted', [created(min(-11)), deleted(min(-2))], 'mixed', /deleted at .*09:58:00Z; a rollback would not bring it back/],
    ['deleted before the old template began running with nothing re-created', [deleted(min(-12))], 'mixed', /deleted at .*09:48:00Z/],
  ] as const)('%s', (_label, events, kind, text) => {
    const cs = classifyChangeSet(input({ events: [...events], oldTemplateSince: since }));
    expect(cs.kind).toBe(kind);
    expect([...cs.reasons, ...cs.notes].join('\n')).toMatch(text);
  });

  it('F1: a create of an object the old template reads, when the old template\'s start is not known, is unknown as before', () => {
    const cs = classifyChangeSet(input({ events: [created(min(-11))] }));
    expect(cs.kind).toBe('unknown');
    expect(cs.reasons).toEqual([
      'ConfigMap app-config (read by the old template via envFrom of container app) was created at 2026-03-02T09:49:00Z, and whether the old template\'s pods read an earlier one is not known (when the old template began running is not known)',
    ]);
  });
});

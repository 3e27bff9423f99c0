import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import { InMemoryStampCache, metadataForStamps, StampStore, stampsFromMetadata } from '../../src/stamps/stamp-cache.js';

const HOUR = 3_600_000;
const T = Date.parse('2026-03-02T10:00:00Z');
const stamp = (ms: number) => ({ [ANNOTATIONS.createdAt.key]: new Date(ms).toISOString(), [ANNOTATIONS.contentChangedAt.key]: new Date(ms).toISOString() });

describe('R3 stamp store', () => {
  it('reads stamps from metadata; an unstamped object is present without stamps', () => {
    const s = new InMemoryStampCache();
    s.upsert('ConfigMap', { namespace: 'a', name: 'x', annotations: stamp(T) });
    s.upsert('ConfigMap', { namespace: 'a', name: 'y', annotations: { [ANNOTATIONS.contentChangedAt.key]: 'not a time' } });
    expect(s.lookup('a', 'ConfigMap', 'x')).toEqual({ state: 'present', createdAt: T, contentChangedAt: T });
    expect(s.lookup('a', 'ConfigMap', 'y')).toEqual({ state: 'present', createdAt: undefined, contentChangedAt: undefined });
    expect(s.lookup('a', 'Secret', 'x')).toEqual({ state: 'missing' });
  });

  it('a watch event replaces what it knew: a recreated object without stamps is unstamped again', () => {
    const s = new InMemoryStampCache();
    s.upsert('Secret', { namespace: 'a', name: 'x', annotations: stamp(T) });
    s.upsert('Secret', { namespace: 'a', name: 'x', annotations: {} });
    expect(s.lookup('a', 'Secret', 'x')).toMatchObject({ contentChangedAt: undefined });
  });

  it('an admission note wins until the watch shows a stamp at least as new', () => {
    const s = new InMemoryStampCache();
    s.upsert('ConfigMap', { namespace: 'a', name: 'x', annotations: stamp(T - HOUR) });
    s.noteAdmitted('a', 'ConfigMap', 'x', { createdAt: undefined, contentChangedAt: T });
    s.upsert('ConfigMap', { namespace: 'a', name: 'x', annotations: stamp(T - HOUR) });
    expect(s.lookup('a', 'ConfigMap', 'x')).toMatchObject({ contentChangedAt: T });
    s.upsert('ConfigMap', { namespace: 'a', name: 'x', annotations: { ...stamp(T - HOUR), [ANNOTATIONS.contentChangedAt.key]: new Date(T).toISOString() } });
    s.upsert('ConfigMap', { namespace: 'a', name: 'x', annotations: stamp(T - HOUR) });
    expect(s.lookup('a', 'ConfigMap', 'x')).toMatchObject({ contentChangedAt: T - HOUR });
  });

  it('remembers deletions, and forgets day-old ones once there are many', () => {
    const s = new InMemoryStampCache();
    s.remove('ConfigMap', { namespace: 'a', name: 'old' }, T - 25 * HOUR);
    expect(s.lookup('a', 'ConfigMap', 'old')).toEqual({ state: 'deleted', at: T - 25 * HOUR });
    for (let i = 0; i < 10_000; i++) s.remove('ConfigMap', { namespace: 'a', name: `cfg-${String(i)}` }, T);
    expect(s.lookup('a', 'ConfigMap', 'old')).toEqual({ state: 'missing' });
    expect(s.lookup('a', 'ConfigMap', 'cfg-9999')).toEqual({ state: 'deleted', at: T });
  });
});

describe('R3 a stamp store reading the objects it is given (the informers\' records)', () => {
  it('answers from them, with notes and tombstones on top; an object they do not have is missing, never guessed', () => {
    const records = new Map<string, { createdAt: number | undefined; contentChangedAt: number | undefined }>([['a/x', { createdAt: T - HOUR, contentChangedAt: T - HOUR }]]);
    const s = new StampStore({ get: (namespace, kind, name) => (kind === 'ConfigMap' ? records.get(`${namespace}/${name}`) : undefined) });
    expect(s.lookup('a', 'ConfigMap', 'x')).toEqual({ state: 'present', createdAt: T - HOUR, contentChangedAt: T - HOUR, lastWriteAt: undefined });
    expect(s.lookup('a', 'Secret', 'x')).toEqual({ state: 'missing' });
    s.noteAdmitted('a', 'ConfigMap', 'x', { createdAt: undefined, contentChangedAt: T });
    expect(s.lookup('a', 'ConfigMap', 'x')).toMatchObject({ contentChangedAt: T });
    records.delete('a/x');
    s.removed('ConfigMap', 'a', 'x', T);
    expect(s.lookup('a', 'ConfigMap', 'x')).toEqual({ state: 'deleted', at: T });
    records.set('a/x', { createdAt: T, contentChangedAt: T });
    s.observed('ConfigMap', 'a', 'x', { createdAt: T, contentChangedAt: T });
    expect(s.lookup('a', 'ConfigMap', 'x')).toMatchObject({ state: 'present', contentChangedAt: T });
  });
});

describe('R3 what the stamp informers keep of an object', () => {
  const managedFields = [
    { manager: 'kubectl-client-side-apply', operation: 'Update', time: '2025-11-02T08:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } },
    { manager: 'kubectl-edit', operation: 'Update', time: '2026-01-15T12:30:00Z' },
    { manager: 'no-time', operation: 'Apply' },
  ];
  const cases = [
    { name: 'stamped', namespace: 'a', resourceVersion: '7', annotations: { ...stamp(T), 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"a":"secret"}}' }, labels: { app: 'x' }, managedFields },
    { name: 'unstamped', namespace: 'a', resourceVersion: '8', managedFields },
    { name: 'bare', namespace: 'a', resourceVersion: '9' },
    { name: 'odd', namespace: 'a', annotations: { [ANNOTATIONS.contentChangedAt.key]: 'not a time' }, managedFields: [{ time: new Date(T) }] },
  ];

  it.each(cases)('gives the same stamps as the whole metadata ($name) and keeps the list+watch keys', (meta) => {
    const kept = metadataForStamps(meta);
    expect(stampsFromMetadata(kept)).toEqual(stampsFromMetadata(meta));
    expect({ name: kept.name, namespace: kept.namespace, resourceVersion: kept.resourceVersion }).toEqual({ name: meta.name, namespace: meta.namespace, resourceVersion: meta.resourceVersion });
  });

  it('keeps nothing else: no labels, no last-applied copy of the data, no managed field sets', () => {
    const kept = JSON.stringify(metadataForStamps(cases[0] ?? {}));
    expect(kept).not.toMatch(/last-applied|secret|labels|fieldsV1|manager/);
  });
});

import { describe, expect, it } from 'vitest';
import type { AuditLevel } from '../../src/timeline/audit-event.js';
import type { ChangeEvent, ConfigChange } from '../../src/core/change-events.js';
import { at, auditEvent, configMapObject, secretObject, timelineOf, type AuditSpec } from '../fixtures/audit/builders.js';

type Verb = 'create' | 'update' | 'patch' | 'delete';

const cm = (data: Record<string, string>) => configMapObject('app-config', data);

function write(minutes: number, verb: Verb, level: AuditLevel, body: { request?: unknown; response?: unknown }, resource = 'configmaps', name = 'app-config'): ReturnType<typeof auditEvent> {
  const spec: AuditSpec = { verb, resource, namespace: 'shop', name, at: at(minutes), level, requestObject: body.request, responseObject: body.response };
  return auditEvent(spec);
}

function configChanges(events: readonly ChangeEvent[]): Pick<ConfigChange, 'kind' | 'name' | 'action' | 'content'>[] {
  return events.filter((e): e is ConfigChange => e.type === 'config-change').map(({ kind, name, action, content }) => ({ kind, name, action, content }));
}

const created = write(0, 'create', 'RequestResponse', { request: cm({ a: '1' }), response: cm({ a: '1' }) });

describe('R3 ConfigMap writes: content changed, unchanged or unknown', () => {
  it.each<[string, ReturnType<typeof auditEvent>[], ConfigChange['action'], ConfigChange['content']]>([
    ['create with a body', [created], 'create', 'changed'],
    ['create at Metadata level', [write(0, 'create', 'Metadata', {})], 'create', 'unknown'],
    ['create at Request level', [write(0, 'create', 'Request', { request: cm({ a: '1' }) })], 'create', 'changed'],
    ['update to the same data (Request level)', [created, write(1, 'update', 'Request', { request: cm({ a: '1' }) })], 'update', 'unchanged'],
    ['update to new data (Request level)', [created, write(1, 'update', 'Request', { request: cm({ a: '2' }) })], 'update', 'changed'],
    ['update to new data (RequestResponse)', [created, write(1, 'update', 'RequestResponse', { request: cm({ a: '2' }), response: cm({ a: '2' }) })], 'update', 'changed'],
    ['update of an object not seen before', [write(1, 'update', 'RequestResponse', { request: cm({ a: '2' }), response: cm({ a: '2' }) })], 'update', 'unknown'],
    ['update at Metadata level', [created, write(1, 'update', 'Metadata', {})], 'update', 'unknown'],
    ['label patch, result in the response', [created, write(1, 'patch', 'RequestResponse', { request: { metadata: { labels: { x: 'y' } } }, response: cm({ a: '1' }) })], 'update', 'unchanged'],
    ['data patch, result in the response', [created, write(1, 'patch', 'RequestResponse', { request: { data: { a: '3' } }, response: cm({ a: '3' }) })], 'update', 'changed'],
    ['data patch without the result (Request level)', [created, write(1, 'patch', 'Request', { request: { data: { a: '3' } } })], 'update', 'unknown'],
    ['JSON patch of data without the result', [created, write(1, 'patch', 'Request', { request: [{ op: 'replace', path: '/data/a', value: '3' }] })], 'update', 'unknown'],
    ['label-only patch without the result', [created, write(1, 'patch', 'Request', { request: { metadata: { annotations: { note: 'x' } } } })], 'update', 'unchanged'],
    ['patch at Metadata level', [created, write(1, 'patch', 'Metadata', {})], 'update', 'unknown'],
    ['immutable set by a patch', [created, write(1, 'patch', 'RequestResponse', { request: { immutable: true }, response: { ...cm({ a: '1' }), immutable: true } })], 'update', 'changed'],
    ['delete', [created, write(1, 'delete', 'Metadata', {})], 'delete', 'changed'],
  ])('F1 %s', (_label, events, action, content) => {
    const changes = configChanges(timelineOf(events).events);
    expect(changes.at(-1)).toEqual({ kind: 'ConfigMap', name: 'app-config', action, content });
  });

  it('F1 loses track after a write it could not see into: the next comparison is unknown, then known again', () => {
    const events = [
      created,
      write(1, 'update', 'Metadata', {}),
      write(2, 'update', 'Request', { request: cm({ a: '1' }) }),
      write(3, 'update', 'Request', { request: cm({ a: '1' }) }),
    ];
    expect(configChanges(timelineOf(events).events).map((c) => c.content)).toEqual(['changed', 'unknown', 'unknown', 'unchanged']);
  });

  it('keeps ConfigMaps apart by namespace, kind and name', () => {
    const other = auditEvent({ verb: 'update', resource: 'configmaps', namespace: 'billing', name: 'app-config', at: at(1), level: 'Request', requestObject: configMapObject('app-config', { a: '1' }, 'billing') });
    const secret = write(1, 'update', 'Request', { request: secretObject('app-config', { a: '1' }) }, 'secrets');
    expect(configChanges(timelineOf([created, other, secret]).events).map((c) => c.content)).toEqual(['changed', 'unknown', 'unknown']);
  });

  it('records the time and namespace of the write', () => {
    const [event] = timelineOf([created]).events;
    expect(event).toEqual({ type: 'config-change', at: at(0), namespace: 'shop', kind: 'ConfigMap', name: 'app-config', action: 'create', content: 'changed' });
  });
});

describe('F3 Secret writes are compared without keeping their values', () => {
  const secret = (data: Record<string, string>) => secretObject('db', data);
  const sw = (minutes: number, verb: Verb, level: AuditLevel, body: { request?: unknown; response?: unknown }) => write(minutes, verb, level, body, 'secrets', 'db');

  it('tells a stringData request and the stored base64 data apart only by content', () => {
    const events = [
      sw(0, 'create', 'RequestResponse', { request: { kind: 'Secret', apiVersion: 'v1', metadata: { name: 'db' }, stringData: { password: 'pw-1' } }, response: secret({ password: 'pw-1' }) }),
      sw(1, 'update', 'Request', { request: { kind: 'Secret', apiVersion: 'v1', metadata: { name: 'db' }, stringData: { password: 'pw-1' } } }),
      sw(2, 'update', 'Request', { request: { kind: 'Secret', apiVersion: 'v1', metadata: { name: 'db' }, stringData: { password: 'pw-2' } } }),
      sw(3, 'update', 'RequestResponse', { request: secret({ password: 'pw-2' }), response: secret({ password: 'pw-2' }) }),
    ];
    expect(configChanges(timelineOf(events).events)).toEqual([
      { kind: 'Secret', name: 'db', action: 'create', content: 'changed' },
      { kind: 'Secret', name: 'db', action: 'update', content: 'unchanged' },
      { kind: 'Secret', name: 'db', action: 'update', content: 'changed' },
      { kind: 'Secret', name: 'db', action: 'update', content: 'unchanged' },
    ]);
  });

  it('puts nothing of the data in the events: only the fields of a ConfigChange', () => {
    const events = timelineOf([sw(0, 'create', 'RequestResponse', { request: secret({ password: 'pw-1' }), response: secret({ password: 'pw-1' }) }), sw(1, 'update', 'Request', { request: secret({ password: 'pw-9' }) })]).events;
    for (const e of events) expect(Object.keys(e).sort()).toEqual(['action', 'at', 'content', 'kind', 'name', 'namespace', 'type']);
  });

  it('Metadata level: every Secret write is a change of unknown content (F1)', () => {
    const events = [sw(0, 'create', 'Metadata', {}), sw(1, 'update', 'Metadata', {}), sw(2, 'patch', 'Metadata', {}), sw(3, 'delete', 'Metadata', {})];
    expect(configChanges(timelineOf(events).events).map((c) => `${c.action}:${c.content}`)).toEqual(['create:unknown', 'update:unknown', 'update:unknown', 'delete:changed']);
  });
});

describe('F1 a deletecollection of ConfigMaps or Secrets', () => {
  it('F1: becomes a collection delete of that kind in the namespace, and what was known of their content is forgotten', () => {
    const gone = auditEvent({ verb: 'deletecollection', resource: 'configmaps', namespace: 'shop', at: at(1), level: 'Metadata' });
    const recreated = write(2, 'create', 'RequestResponse', { request: cm({ a: '1' }), response: cm({ a: '1' }) });
    const rewritten = write(3, 'update', 'Request', { request: cm({ a: '1' }) });
    const events = timelineOf([created, gone, rewritten]).events;
    expect(events.filter((e) => e.type === 'config-collection-delete')).toEqual([{ type: 'config-collection-delete', at: at(1), namespace: 'shop', kind: 'ConfigMap' }]);
    // The content seen before the deletecollection is no baseline for a later write.
    expect(configChanges(events).at(-1)).toMatchObject({ action: 'update', content: 'unknown' });
    expect(configChanges(timelineOf([created, gone, recreated, rewritten]).events).at(-1)).toMatchObject({ content: 'unchanged' });
  });
});

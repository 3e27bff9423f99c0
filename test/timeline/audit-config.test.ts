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

describe('R3 deletecollection of ConfigMaps and Secrets', () => {
  const collection = (minutes: number, level: AuditLevel, items: Record<string, unknown>[] | undefined, resource = 'configmaps', query = '?labelSelector=team%3Dshop') =>
    auditEvent({
      verb: 'deletecollection',
      resource,
      namespace: 'shop',
      at: at(minutes),
      level,
      query,
      ...(items === undefined ? {} : { responseObject: { kind: resource === 'secrets' ? 'SecretList' : 'ConfigMapList', apiVersion: 'v1', metadata: {}, items } }),
    });

  it('is a delete of every object the response lists', () => {
    const events = [created, collection(1, 'RequestResponse', [cm({ a: '1' }), configMapObject('other', { b: '2' })])];
    expect(configChanges(timelineOf(events).events).slice(1)).toEqual([
      { kind: 'ConfigMap', name: 'app-config', action: 'delete', content: 'changed' },
      { kind: 'ConfigMap', name: 'other', action: 'delete', content: 'changed' },
    ]);
  });

  it('F1 without the response, any object of the kind in the namespace may be gone: an unknown change, selector kept', () => {
    const { events } = timelineOf([created, collection(1, 'Metadata', undefined)]);
    expect(events.at(-1)).toEqual({ type: 'config-collection-delete', at: at(1), namespace: 'shop', kind: 'ConfigMap', selector: 'labelSelector=team=shop' });
    // What was known of the content is known no more: a later write compares with nothing.
    const after = timelineOf([created, collection(1, 'Metadata', undefined), write(2, 'update', 'Request', { request: cm({ a: '1' }) })]).events;
    expect(configChanges(after).at(-1)?.content).toBe('unknown');
  });

  it('F3 keeps only the names of the Secrets a deletecollection returned', () => {
    const { events } = timelineOf([collection(1, 'RequestResponse', [secretObject('db', { password: 'pw-1' })], 'secrets', '')]);
    expect(events).toEqual([{ type: 'config-change', at: at(1), namespace: 'shop', kind: 'Secret', name: 'db', action: 'delete', content: 'changed' }]);
    expect(JSON.stringify(events)).not.toContain(Buffer.from('pw-1').toString('base64'));
  });
});

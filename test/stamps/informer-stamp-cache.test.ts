import { pino } from 'pino';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../../src/core/annotations.js';
import type { KubernetesObject } from '@kubernetes/client-node';
import { InformerStampCache, LIST_ACCEPT, WATCH_ACCEPT } from '../../src/stamps/informer-stamp-cache.js';
import { Informer } from '../../src/kube/informer.js';
import { KubeApiServer, testApiKubeConfig, until } from '../support/kube-api-server.js';

// The informer-backed stamp cache against a protocol-faithful test API server: list, watch,
// reconnect, 410 Gone relist, metadata only (F3).

const STAMPED = { [ANNOTATIONS.createdAt.key]: '2026-03-01T08:00:00Z', [ANNOTATIONS.contentChangedAt.key]: '2026-03-01T08:00:00Z' };
const SECRET_VALUE = 'F3-informer-canary-5c2e';
let clock = Date.parse('2026-03-02T10:00:00Z');

let server: KubeApiServer;
let cache: InformerStampCache;
let logs: string[];

function startCache(): InformerStampCache {
  logs = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  cache = new InformerStampCache({ kubeConfig: testApiKubeConfig(server), logger: pino({ level: 'debug' }, sink), clock: () => clock, restartDelayMs: 20 });
  return cache;
}

beforeEach(async () => {
  server = await new KubeApiServer().start();
  server.create('configmaps', { metadata: { name: 'app-config', namespace: 'shop', annotations: STAMPED }, data: { LEVEL: 'info' } });
  server.create('configmaps', { metadata: { name: 'legacy', namespace: 'shop', managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', time: '2025-11-02T08:00:00Z' }, { manager: 'kubectl-edit', operation: 'Update', time: '2026-01-15T12:30:00Z' }] }, data: { A: '1' } });
  server.create('secrets', { metadata: { name: 'db', namespace: 'shop', annotations: STAMPED }, type: 'Opaque', data: { password: Buffer.from(SECRET_VALUE).toString('base64') } });
});

afterEach(async () => {
  await cache.stop();
  await server.stop();
});

describe('R3 stamp cache from a metadata-only list and watch', () => {
  it('lists every ConfigMap and Secret with their stamps and is synced after the list', async () => {
    startCache();
    expect(cache.synced()).toBe(false);
    await cache.start();
    expect(cache.synced()).toBe(true);
    expect(cache.lookup('shop', 'ConfigMap', 'app-config')).toEqual({ state: 'present', createdAt: Date.parse('2026-03-01T08:00:00Z'), contentChangedAt: Date.parse('2026-03-01T08:00:00Z') });
    // Unstamped, but the apiserver's managedFields bound its last write.
    expect(cache.lookup('shop', 'ConfigMap', 'legacy')).toEqual({ state: 'present', createdAt: undefined, contentChangedAt: undefined, lastWriteAt: Date.parse('2026-01-15T12:30:00Z') });
    expect(cache.lookup('shop', 'Secret', 'db').state).toBe('present');
    expect(cache.lookup('other', 'Secret', 'db').state).toBe('missing');
  });

  it('follows ADDED, MODIFIED and DELETED from the watch', async () => {
    startCache();
    await cache.start();
    await until('both watches are open', () => server.openWatches() === 2);
    server.create('configmaps', { metadata: { name: 'new-config', namespace: 'shop', annotations: STAMPED } });
    await until('the new ConfigMap is seen', () => cache.lookup('shop', 'ConfigMap', 'new-config').state === 'present');
    server.update('configmaps', 'shop', 'app-config', (o) => {
      o.metadata.annotations = { ...o.metadata.annotations, [ANNOTATIONS.contentChangedAt.key]: '2026-03-02T09:55:00Z' };
    });
    await until('the new stamp is seen', () => {
      const l = cache.lookup('shop', 'ConfigMap', 'app-config');
      return l.state === 'present' && l.contentChangedAt === Date.parse('2026-03-02T09:55:00Z');
    });
    clock = Date.parse('2026-03-02T10:01:00Z');
    server.delete('secrets', 'shop', 'db');
    await until('the deletion is seen', () => cache.lookup('shop', 'Secret', 'db').state === 'deleted');
    expect(cache.lookup('shop', 'Secret', 'db')).toEqual({ state: 'deleted', at: clock });
  });

  it.each(['event', 'http'] as const)('relists after 410 Gone (%s) and notices a deletion made while it was away', async (gone) => {
    server.gone = gone;
    startCache();
    await cache.start();
    await until('both watches are open', () => server.openWatches() === 2);
    const listsBefore = server.requests.filter((r) => !r.url.includes('watch')).length;
    // While the watch is down: a deletion and a new object, then the history is compacted.
    server.closeWatches();
    server.delete('configmaps', 'shop', 'legacy');
    server.create('configmaps', { metadata: { name: 'during-gap', namespace: 'shop', annotations: STAMPED } });
    server.compact();
    await until('the deletion is noticed by a relist', () => cache.lookup('shop', 'ConfigMap', 'legacy').state === 'deleted');
    expect(cache.lookup('shop', 'ConfigMap', 'during-gap').state).toBe('present');
    expect(server.requests.filter((r) => !r.url.includes('watch')).length).toBeGreaterThan(listsBefore);
    await until('synced again', () => cache.synced());
  });

  it('keeps admission notes until the watch shows the stamp', async () => {
    startCache();
    await cache.start();
    const at = Date.parse('2026-03-02T09:59:00Z');
    cache.noteAdmitted('shop', 'ConfigMap', 'app-config', { createdAt: undefined, contentChangedAt: at });
    expect(cache.lookup('shop', 'ConfigMap', 'app-config')).toMatchObject({ state: 'present', contentChangedAt: at });
  });
});

describe('F3 secrets stay secret in the stamp cache', () => {
  it('asks for metadata only, on lists and watches', async () => {
    startCache();
    await cache.start();
    await until('both watches are open', () => server.openWatches() === 2);
    const secretRequests = server.requests.filter((r) => r.url.startsWith('/api/v1/secrets'));
    expect(secretRequests.some((r) => r.url.includes('watch'))).toBe(true);
    for (const r of secretRequests) expect(r.accept).toBe(r.url.includes('watch') ? WATCH_ACCEPT : LIST_ACCEPT);
  });

  it('refuses full objects from a server that ignores the metadata-only Accept, and logs no data', async () => {
    server.ignorePartialAccept = 'all';
    startCache();
    await cache.start();
    expect(cache.synced()).toBe(false);
    await until('the refusal is logged', () => logs.some((l) => l.includes('PartialObjectMetadataList')));
    const b64 = Buffer.from(SECRET_VALUE).toString('base64');
    for (const line of logs) {
      expect(line).not.toContain(SECRET_VALUE);
      expect(line).not.toContain(b64);
    }
  });

  it('drops everything but metadata from watch events, even when a server sends Secret data', async () => {
    server.ignorePartialAccept = 'watch';
    startCache();
    const informer = new Informer<KubernetesObject>({ kubeConfig: testApiKubeConfig(server), path: '/api/v1/secrets', metadataOnly: true, logger: pino({ level: 'silent' }), clock: Date.now, trim: (o) => o });
    const seen: unknown[] = [];
    informer.on((event, obj) => {
      if (event === 'update') seen.push(obj);
    });
    await informer.start();
    await until('the watch is open', () => server.openWatches() === 1);
    server.update('secrets', 'shop', 'db', (o) => {
      o.data = { password: Buffer.from(`${SECRET_VALUE}-2`).toString('base64') };
    });
    await until('the event arrives', () => seen.length === 1);
    await informer.stop();
    seen.push(informer.get('shop', 'db'));
    expect(seen[0]).toMatchObject({ kind: 'Secret', metadata: { name: 'db' } });
    for (const kept of seen) expect(Object.keys(kept as object).sort()).toEqual(['apiVersion', 'kind', 'metadata']);
    expect(JSON.stringify(seen)).not.toContain(Buffer.from(`${SECRET_VALUE}-2`).toString('base64'));
  });
});

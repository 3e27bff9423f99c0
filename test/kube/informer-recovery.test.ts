import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Informer, restartDelay } from '../../src/kube/informer.js';
import { connectionOf } from '../../src/kube/connection.js';
import { kubeCall } from '../../src/kube/kube-http.js';
import { KubeApiServer, testApiKubeConfig, until } from '../support/kube-api-server.js';

// An informer through an apiserver outage (the server killed, then back), against the
// protocol-faithful test API server and the real client-node ListWatch. A real apiserver cannot be
// stopped here without stopping every other test's control plane with it.

let server: KubeApiServer;
let informer: Informer<KubernetesObject>;
let logs: string[];

function lists(): number {
  return server.requests.filter((r) => !/[?&]watch=(true|1)/.test(r.url)).length;
}

beforeEach(async () => {
  server = await new KubeApiServer().start();
  server.create('configmaps', { metadata: { name: 'a', namespace: 'shop' }, data: { A: '1' } });
  logs = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  informer = new Informer<KubernetesObject>({ kubeConfig: testApiKubeConfig(server), path: '/api/v1/configmaps', metadataOnly: true, logger: pino({ level: 'debug' }, sink), clock: Date.now, restartDelayMs: 20, maxRestartDelayMs: 80 });
  await informer.start();
  await until('synced', () => informer.synced());
});

afterEach(async () => {
  await informer.stop();
  await server.stop();
});

describe('F1 informer freshness through an apiserver outage', () => {
  it('reads as not synced while the apiserver is away, and synced again once its watch is back, resuming without a relist', async () => {
    const listsBefore = lists();
    server.setDown(true);
    await until('not synced while the apiserver is down', () => !informer.synced());
    // Several failed attempts while it is down: the informer keeps trying.
    const attemptsAtDown = server.requests.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(informer.synced()).toBe(false);
    server.setDown(false);
    await until('synced again after the apiserver is back', () => informer.synced());
    expect(server.requests.length).toBeGreaterThan(attemptsAtDown);
    // The watch resumed from the resourceVersion it had: no second copy of the cluster was listed.
    expect(lists()).toBe(listsBefore);
    expect(server.requests.at(-1)?.url).toMatch(/resourceVersion=\d+/);
    server.create('configmaps', { metadata: { name: 'b', namespace: 'shop' }, data: { B: '2' } });
    await until('a change after the outage arrives', () => informer.get('shop', 'b') !== undefined);
    expect(logs.some((l) => l.includes('watch resumed'))).toBe(true);
  });

  it('relists when the history it would resume from was compacted during the outage (410), and forgets what was deleted', async () => {
    server.setDown(true);
    await until('not synced', () => !informer.synced());
    server.delete('configmaps', 'shop', 'a');
    server.compact();
    const listsBefore = lists();
    server.setDown(false);
    await until('synced after the relist', () => informer.synced() && informer.get('shop', 'a') === undefined);
    expect(lists()).toBe(listsBefore + 1);
  });

  it('a watch cut by the server at its timeout (no error) is resumed without ever reading as stale', async () => {
    server.closeWatches();
    await until('watching again', () => server.openWatches() === 1);
    expect(informer.synced()).toBe(true);
  });
});

describe('F4 after an outage the watches come back with the apiserver, not a whole backoff later', () => {
  /** Informers whose next attempt after a failure is 20–30 s away, on one connection shared with `call`. */
  async function slowToRetry(paths: string[], askEveryMs: number): Promise<{ slow: Informer<KubernetesObject>[]; call: () => Promise<number> }> {
    const kc = testApiKubeConfig(server);
    const slow = paths.map((path) => new Informer<KubernetesObject>({ kubeConfig: kc, path, metadataOnly: true, logger: pino({ level: 'silent' }), clock: Date.now, restartDelayMs: 20_000, maxRestartDelayMs: 30_000, askEveryMs }));
    await Promise.all(slow.map((i) => i.start()));
    await until('synced', () => slow.every((i) => i.synced()));
    const call = async () => (await kubeCall(connectionOf(kc), { method: 'GET', path: '/api/v1/namespaces/shop/configmaps/a', timeoutMs: 2000 })).status;
    return { slow, call };
  }

  async function throughOutage(slow: Informer<KubernetesObject>[]): Promise<void> {
    server.setDown(true);
    await until('not synced while the apiserver is away', () => slow.every((i) => !i.synced()));
  }

  const versionAsks = (list: { url: string; at: number }[]): number[] => list.filter((r) => r.url === '/version').map((r) => r.at);

  it('a request on the same connection that is answered again (a Lease renewal) ends the wait: synced within seconds, not the 16 s or more of its backoff', async () => {
    // The connection's own question is put off past the test: the renewal's answer alone must do it.
    const { slow, call } = await slowToRetry(['/api/v1/configmaps'], 60_000);
    try {
      await throughOutage(slow);
      // What the Lease renewals see while it is away: nothing.
      await expect(call()).rejects.toThrow();
      server.setDown(false);
      const backAt = Date.now();
      expect(await call()).toBe(200);
      // About a second by design; the margin is for a loaded CI machine, far under the backoff.
      await until('synced again', () => slow.every((i) => i.synced()), 6000);
      expect(Date.now() - backAt).toBeLessThan(5000);
      expect(versionAsks(server.requests)).toEqual([]);
    } finally {
      await Promise.all(slow.map((i) => i.stop()));
    }
  });

  it('with nothing else on the connection (the webhook), the connection asks the apiserver itself while the watches wait: once per interval however many wait, synced within seconds of its return, and nothing asked once it answers', async () => {
    const { slow, call } = await slowToRetry(['/api/v1/configmaps', '/api/v1/secrets'], 300);
    try {
      await throughOutage(slow);
      // The informers' own retries are 20 s apart here: this one request, finding the apiserver
      // gone as their first retry would, stands for them. Nothing is answered after it.
      await expect(call()).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 1500));
      const asked = versionAsks(server.refused);
      expect(asked.length).toBeGreaterThanOrEqual(2);
      // One question per interval for the connection, not one per informer waiting on it.
      expect(asked.length).toBeLessThanOrEqual(6);
      const gaps = asked.slice(1).map((t, i) => t - (asked[i] ?? 0));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(250);
      server.setDown(false);
      const backAt = Date.now();
      await until('synced again', () => slow.every((i) => i.synced()), 6000);
      expect(Date.now() - backAt).toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 1000));
      expect(versionAsks(server.requests)).toHaveLength(1);
    } finally {
      await Promise.all(slow.map((i) => i.stop()));
    }
  });

  it('nothing is asked while the watches wait on an apiserver that answers (a watch refused with 403 is not an outage)', async () => {
    const { slow, call } = await slowToRetry(['/api/v1/configmaps'], 300);
    try {
      await throughOutage(slow);
      await expect(call()).rejects.toThrow();
      server.setDown(false);
      expect(await call()).toBe(200);
      const answeredAt = Date.now();
      await new Promise((r) => setTimeout(r, 1000));
      expect(versionAsks(server.requests).filter((at) => at >= answeredAt)).toEqual([]);
    } finally {
      await Promise.all(slow.map((i) => i.stop()));
    }
  });
});

describe('F1 informer: at most one watch request a second per resource, whatever ends the watches', () => {
  const watchTimes = (): number[] => server.requests.filter((r) => /[?&]watch=(true|1)/.test(r.url)).map((r) => r.at);
  /** Seen from the server, which stamps each request when it gets to it: a few ms of that are not the client's. */
  const SECOND = 950;

  it('a watch ended with 410 Gone right after it opened: relisted at once, the next watch a second after the previous one', async () => {
    const listsBefore = lists();
    const goneAt = Date.now();
    server.expireWatches();
    await until('relisted', () => lists() === listsBefore + 1);
    expect(Date.now() - goneAt).toBeLessThan(2000);
    await until('watching again', () => server.openWatches() === 1, 3000);
    const [previous = 0, next = 0] = watchTimes().slice(-2);
    expect(next - previous).toBeGreaterThanOrEqual(SECOND);
  });

  it('watches cut again and again as soon as they open: never two watch requests within a second', async () => {
    for (let i = 0; i < 4; i++) {
      await until('watching', () => server.openWatches() === 1, 3000);
      if (i % 2 === 0) server.expireWatches();
      else server.setDown(true);
      server.setDown(false);
    }
    await until('watching', () => server.openWatches() === 1, 3000);
    const times = watchTimes();
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    expect(gaps.length).toBeGreaterThanOrEqual(4);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(SECOND);
  });
});

describe('restartDelay', () => {
  it('doubles from the base per consecutive failure, capped, with jitter of at most ±20%', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => restartDelay(n, 1000, 30_000, mid))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(restartDelay(0, 1000, 30_000, () => 0)).toBe(800);
    expect(restartDelay(10, 1000, 30_000, () => 0.999999)).toBeLessThanOrEqual(30_000);
    expect(restartDelay(60, 1000, 30_000, mid)).toBe(30_000);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_SET, resolver } from '../../src/policy/policy-file.js';
import { startWebhookServer, type WebhookServer } from '../../src/admission/server.js';
import { InMemoryStampCache } from '../../src/stamps/stamp-cache.js';
import { createCa, createServingCert, type KeyPairPem } from '../../src/certs/x509.js';
import { secretVolume, type SecretVolume } from '../support/secret-volume.js';
import { servedSerial } from '../support/tls-probe.js';
import { waitFor } from '../support/wait.js';

// The serving pair in a Secret volume updated as the kubelet does (the `..data` symlink swap).

const DAY = 86_400_000;
const now = Date.now();
const ca = createCa({ days: 30, now });
const leaf = (): KeyPairPem => createServingCert({ ca, names: ['localhost', '127.0.0.1'], days: 10, now });

function files(pair: KeyPairPem): Record<string, string> {
  return { 'tls.crt': pair.certPem, 'tls.key': pair.keyPem, 'ca.crt': ca.certPem };
}

const served = (port: number): Promise<string> => servedSerial(port, ca.certPem);

const serialOf = (pair: KeyPairPem): string => new X509Certificate(pair.certPem).serialNumber.toLowerCase().replace(/^0+/, '');

describe('F2 the serving pair rotates through a Secret volume swap; a bad pair is refused and the last good one keeps serving', () => {
  let dir: string;
  let volume: SecretVolume;
  let server: WebhookServer;
  const logs: string[] = [];
  const first = leaf();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollguard-rotation-'));
    volume = await secretVolume(join(dir, 'tls'), files(first));
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
        cb();
      },
    });
    server = await startWebhookServer({
      host: '127.0.0.1',
      port: 0,
      tlsCertFile: volume.file('tls.crt'),
      tlsKeyFile: volume.file('tls.key'),
      reloadIntervalMs: 20,
      logger: pino({ level: 'info' }, sink),
      mutate: { cache: new InMemoryStampCache(), policyFor: resolver(DEFAULT_POLICY_SET), trustedUsers: new Set(), ownNamespace: 'rollguard' },
    });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const failures = async (reason: string): Promise<number> => {
    const metric = await server.metrics.certReloadFailures.get();
    return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
  };

  it('serves the new pair after a swap, and counts one reload per swap', async () => {
    expect(await served(server.port)).toBe(serialOf(first));
    const next = leaf();
    await volume.update(files(next));
    await waitFor('the new serving certificate', async () => (await served(server.port)) === serialOf(next), { timeoutMs: 5000 });
    // Both watched files change in one swap; the pair is loaded once.
    await new Promise((r) => setTimeout(r, 200));
    const loaded = (await server.metrics.certReloads.get()).values.find((v) => v.labels.result === 'loaded')?.value;
    expect(loaded).toBe(1);
  });

  it.each([
    ['an empty certificate', (good: KeyPairPem) => ({ ...files(good), 'tls.crt': '' }), 'malformed'],
    ['a truncated certificate', (good: KeyPairPem) => ({ ...files(good), 'tls.crt': good.certPem.slice(0, good.certPem.length / 2) }), 'malformed'],
    ['a key that is not the certificate’s', (good: KeyPairPem) => ({ ...files(good), 'tls.key': leaf().keyPem }), 'mismatched'],
    ['an expired pair', () => files(createServingCert({ ca, names: ['localhost', '127.0.0.1'], days: 1, now: now - 10 * DAY })), 'expired'],
  ] as const)('refuses %s: the last good pair keeps serving, a metric and a log line say why', async (_label, bad, reason) => {
    const good = leaf();
    await volume.update(files(good));
    await waitFor('the good serving certificate', async () => (await served(server.port)) === serialOf(good), { timeoutMs: 5000 });
    const before = await failures(reason);
    const logged = logs.length;
    await volume.update(bad(good));
    await waitFor(`a ${reason} refusal`, async () => (await failures(reason)) === before + 1, { timeoutMs: 5000, detail: () => logs.slice(-5).join('\n') });
    expect(await served(server.port)).toBe(serialOf(good));
    // Both watched files changed in the one swap: refused (counted, logged) once.
    await new Promise((r) => setTimeout(r, 200));
    expect(await failures(reason)).toBe(before + 1);
    const lines = logs.slice(logged).map((l) => JSON.parse(l) as { msg: string; reason?: string }).filter((l) => l.reason === reason);
    expect(lines.map((l) => l.msg)).toEqual(['certificate files changed but the new pair is refused; keeping the previous certificate']);
  });
});

describe('F2 a Secret volume swap is served at once, not at the next stat poll', () => {
  it('with a one-minute poll, the swapped pair is served within two seconds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rollguard-rotation-'));
    const volume = await secretVolume(join(dir, 'tls'), files(leaf()));
    const server = await startWebhookServer({
      host: '127.0.0.1',
      port: 0,
      tlsCertFile: volume.file('tls.crt'),
      tlsKeyFile: volume.file('tls.key'),
      reloadIntervalMs: 60_000,
      logger: pino({ level: 'silent' }),
      mutate: { cache: new InMemoryStampCache(), policyFor: resolver(DEFAULT_POLICY_SET), trustedUsers: new Set(), ownNamespace: 'rollguard' },
    });
    try {
      const next = leaf();
      await volume.update(files(next));
      await waitFor('the swapped serving certificate', async () => (await served(server.port)) === serialOf(next), { timeoutMs: 2000 });
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

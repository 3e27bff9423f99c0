import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureCertificates, renewalWindowMs } from '../../src/certs/store.js';
import { createCa, createServingCert, describeCert, issuedBy, keyMatches, randomSerial } from '../../src/certs/x509.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-02T10:00:00Z');
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rollguard-certs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('F2 serving certificate the apiserver accepts', () => {
  it('puts every name in the SANs (DNS and IP), signed by the CA, for the requested days', () => {
    const ca = createCa({ days: 3650, now: NOW });
    const leaf = createServingCert({ ca, names: ['rollguard-webhook.rollguard.svc', 'rollguard-webhook.rollguard.svc.cluster.local', '10.0.0.7'], days: 90, now: NOW });
    const info = describeCert(leaf.certPem);
    expect(info.dnsNames).toEqual(['rollguard-webhook.rollguard.svc', 'rollguard-webhook.rollguard.svc.cluster.local']);
    expect(info.ipAddresses).toEqual(['10.0.0.7']);
    expect(info.isCa).toBe(false);
    expect(describeCert(ca.certPem).isCa).toBe(true);
    expect(info.notAfter).toBe(NOW + 90 * DAY);
    expect(issuedBy(leaf.certPem, ca.certPem)).toBe(true);
    expect(issuedBy(leaf.certPem, createCa({ days: 10, now: NOW }).certPem)).toBe(false);
    expect(keyMatches(leaf.certPem, leaf.keyPem)).toBe(true);
    expect(keyMatches(leaf.certPem, ca.keyPem)).toBe(false);
  });

  it('rejects a certificate without names', () => {
    const ca = createCa({ days: 10, now: NOW });
    expect(() => createServingCert({ ca, names: [], days: 10, now: NOW })).toThrow(/at least one DNS name/);
  });

  it('uses random, positive serial numbers, never "01"', () => {
    const serials = new Set(Array.from({ length: 50 }, () => randomSerial()));
    expect(serials.size).toBe(50);
    for (const s of serials) {
      expect(s).toMatch(/^[0-7][0-9a-f]{31}$/);
      expect(s).not.toBe('01');
    }
  });

  it('serves TLS that a client trusting only the CA verifies by hostname', async () => {
    const result = await ensureCertificates({ outDir: dir, names: ['localhost'], days: 30, now: Date.now() });
    const server = createServer({ cert: await readFile(result.paths.cert), key: await readFile(result.paths.key) }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const get = (servername: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, servername, ca: result.caPem, headers: { host: servername }, agent: false }, (res) => {
          res.resume();
          res.on('end', () => { resolve('ok'); });
        });
        req.on('error', reject);
        req.end();
      });
    try {
      await expect(get('localhost')).resolves.toBe('ok');
      await expect(get('other.example')).rejects.toThrow(/altnames|Hostname/i);
    } finally {
      server.close();
    }
  });
});

describe('F2 rollguard certs: reuse the CA, renew the leaf', () => {
  const opts = (over: Partial<Parameters<typeof ensureCertificates>[0]> = {}): Parameters<typeof ensureCertificates>[0] => ({
    outDir: dir,
    names: ['rollguard-webhook.rollguard.svc'],
    days: 90,
    now: NOW,
    ...over,
  });

  it('writes the keys 0600 and the CA once', async () => {
    const first = await ensureCertificates(opts());
    expect(first.caCreated).toBe(true);
    expect(first.leafIssued).toBe(true);
    expect((await stat(first.paths.key)).mode & 0o777).toBe(0o600);
    expect((await stat(first.paths.caKey)).mode & 0o777).toBe(0o600);
    const second = await ensureCertificates(opts({ now: NOW + DAY }));
    expect(second.caCreated).toBe(false);
    expect(second.leafIssued).toBe(false);
    expect(second.caPem).toBe(first.caPem);
  });

  it.each([
    ['near expiry', { now: NOW + 90 * DAY - renewalWindowMs(90) + DAY }, /renewal window/],
    ['names changed', { names: ['rollguard-webhook.rollguard.svc', 'extra.example'] }, /differ from --dns/],
  ])('renews the serving certificate when %s, with the same CA', async (_label, change, reason) => {
    const first = await ensureCertificates(opts());
    const leafBefore = describeCert(await readFile(first.paths.cert, 'utf8'));
    const again = await ensureCertificates(opts(change));
    expect(again.caCreated).toBe(false);
    expect(again.leafIssued).toBe(true);
    expect(again.reason).toMatch(reason);
    const leafAfter = describeCert(await readFile(again.paths.cert, 'utf8'));
    expect(leafAfter.serial).not.toBe(leafBefore.serial);
    expect(issuedBy(await readFile(again.paths.cert, 'utf8'), first.caPem)).toBe(true);
  });

  it('replaces a key that does not match its certificate', async () => {
    const first = await ensureCertificates(opts());
    await writeFile(first.paths.key, createCa({ days: 1, now: NOW }).keyPem);
    const again = await ensureCertificates(opts());
    expect(again.reason).toMatch(/does not belong/);
    expect(keyMatches(await readFile(again.paths.cert, 'utf8'), await readFile(again.paths.key, 'utf8'))).toBe(true);
  });

  it('writes PEM files with LF line endings, never CRLF', async () => {
    const result = await ensureCertificates(opts());
    const files = await readdir(dir);
    expect(files.sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    for (const file of files) {
      const text = await readFile(join(dir, file), 'utf8');
      expect(text, file).toMatch(/^-----BEGIN [A-Z ]+-----\n[A-Za-z0-9+/=\n]+-----END [A-Z ]+-----\n$/);
      expect(text.includes('\r'), file).toBe(false);
    }
    expect(result.caPem.includes('\r')).toBe(false);
  });

  it('explains bad input', async () => {
    await expect(ensureCertificates(opts({ names: [] }))).rejects.toThrow(/--dns/);
    await expect(ensureCertificates(opts({ days: 0 }))).rejects.toThrow(/--days/);
  });
});

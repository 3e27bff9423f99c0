import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import forge from 'node-forge';
import { ensureCertificates, leafRenewalReason, renewalWindowMs } from '../../src/certs/store.js';
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

  it('makes ECDSA P-256 keys, so a handshake signs without RSA-2048\'s cost', () => {
    const ca = createCa({ days: 10, now: NOW });
    const leaf = createServingCert({ ca, names: ['localhost'], days: 10, now: NOW });
    for (const pem of [ca.certPem, leaf.certPem]) {
      const key = new X509Certificate(pem).publicKey;
      expect(key.asymmetricKeyType).toBe('ec');
      expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    }
    expect(leaf.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('names the CA by the key identifier the CA carries', () => {
    const ca = createCa({ days: 10, now: NOW });
    const leaf = createServingCert({ ca, names: ['localhost'], days: 10, now: NOW });
    const ext = (pem: string, name: string): string | undefined => {
      const found = forge.asn1
        .fromDer(Buffer.from(pem.replace(/-----[A-Z ]+-----|\n/g, ''), 'base64').toString('binary'))
        .value as forge.asn1.Asn1[];
      const tbs = found[0]?.value as forge.asn1.Asn1[];
      const extensions = ((tbs.at(-1)?.value as forge.asn1.Asn1[])[0]?.value ?? []) as forge.asn1.Asn1[];
      const oid = forge.pki.oids[name] as string;
      const entry = extensions.find((e) => forge.asn1.derToOid((e.value as forge.asn1.Asn1[])[0]?.value as string) === oid);
      const der = (entry?.value as forge.asn1.Asn1[] | undefined)?.at(-1)?.value;
      return typeof der === 'string' ? forge.util.bytesToHex(der) : undefined;
    };
    const ski = ext(ca.certPem, 'subjectKeyIdentifier');
    const aki = ext(leaf.certPem, 'authorityKeyIdentifier');
    expect(ski).toMatch(/^0414[0-9a-f]{40}$/);
    // SEQUENCE { [0] keyIdentifier }: the same 20 bytes.
    expect(aki).toBe(`30168014${(ski ?? '').slice(4)}`);
  });

  /** An RSA CA as node-forge made them (earlier versions, or an admin's own in the certificate directory). */
  function forgeRsaCa(subject: forge.pki.CertificateField[]): { certPem: string; keyPem: string } {
    const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
    const old = forge.pki.createCertificate();
    old.publicKey = keys.publicKey;
    old.serialNumber = '01ab';
    old.validity.notBefore = new Date(NOW - DAY);
    old.validity.notAfter = new Date(NOW + 3650 * DAY);
    old.setSubject(subject);
    old.setIssuer(subject);
    old.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, critical: true }, { name: 'subjectKeyIdentifier' }]);
    old.sign(keys.privateKey, forge.md.sha256.create());
    return { certPem: forge.pki.certificateToPem(old), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
  }

  it('names as issuer the whole subject of a CA brought with more than a CN', () => {
    const ca = forgeRsaCa([{ name: 'organizationName', value: 'Example Platform' }, { name: 'commonName', value: 'platform-ca' }]);
    const leaf = createServingCert({ ca, names: ['localhost'], days: 10, now: NOW });
    expect(new X509Certificate(leaf.certPem).issuer).toBe(new X509Certificate(ca.certPem).subject);
    expect(issuedBy(leaf.certPem, ca.certPem)).toBe(true);
  });

  it('issues under a CA that an earlier version made with an RSA key (signed sha256WithRSA)', () => {
    const ca = forgeRsaCa([{ name: 'commonName', value: 'rollguard-ca' }]);
    const leaf = createServingCert({ ca, names: ['localhost'], days: 10, now: NOW });
    expect(issuedBy(leaf.certPem, ca.certPem)).toBe(true);
    expect(new X509Certificate(leaf.certPem).publicKey.asymmetricKeyType).toBe('ec');
    expect(keyMatches(ca.certPem, ca.keyPem)).toBe(true);
    expect(describeCert(leaf.certPem).issuerCn).toBe('rollguard-ca');
  });

  it('writes validity after 2049 as GeneralizedTime, to the second', () => {
    const now = Date.parse('2045-06-01T00:00:00Z');
    const ca = createCa({ days: 3650, now });
    const info = describeCert(ca.certPem);
    expect(info.notAfter).toBe(now + 3650 * DAY);
    expect(info.notBefore).toBe(now - 5 * 60_000);
  });

  it('reads IPv6 names as they were asked for, so they do not look changed', () => {
    const ca = createCa({ days: 3650, now: NOW });
    const names = ['localhost', '::1', 'fd00::10'];
    const leaf = createServingCert({ ca, names, days: 90, now: NOW });
    expect(describeCert(leaf.certPem).ipAddresses).toEqual(['::1', 'fd00::10']);
    expect(leafRenewalReason(leaf, ca, { outDir: dir, names, days: 90, now: NOW })).toBeUndefined();
  });

  it('rejects a certificate without names', () => {
    const ca = createCa({ days: 10, now: NOW });
    expect(() => createServingCert({ ca, names: [], days: 10, now: NOW })).toThrow(/at least one DNS name/);
  });

  it('uses random, positive serial numbers, never "01", in their fewest DER bytes (no leading zero byte, which Go refuses)', () => {
    // With only the top bit cleared, one serial in 128 would start with a zero byte: 1,000 find it.
    const serials = new Set(Array.from({ length: 1000 }, () => randomSerial()));
    expect(serials.size).toBe(1000);
    for (const s of serials) {
      expect(s).toMatch(/^[4-7][0-9a-f]{31}$/);
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

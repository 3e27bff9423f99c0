import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTlsPair, readTlsPair, TlsPairError, type TlsPair, type TlsRefusal } from '../../src/admission/tls-files.js';
import { createCa, createServingCert } from '../../src/certs/x509.js';

const DAY = 86_400_000;
const now = Date.now();
const ca = createCa({ days: 30, now });
const good = createServingCert({ ca, names: ['localhost'], days: 10, now });
const other = createServingCert({ ca, names: ['localhost'], days: 10, now });
const expired = createServingCert({ ca, names: ['localhost'], days: 1, now: now - 10 * DAY });
const future = createServingCert({ ca, names: ['localhost'], days: 10, now: now + 2 * DAY });

function refusal(pair: TlsPair): TlsRefusal | 'accepted' {
  try {
    checkTlsPair(pair, now);
    return 'accepted';
  } catch (err) {
    if (err instanceof TlsPairError) return err.reason;
    throw err;
  }
}

describe('F2 a serving pair that would fail handshakes is refused with its reason', () => {
  it('accepts a valid pair, with or without the CA after the leaf', () => {
    expect(refusal({ cert: good.certPem, key: good.keyPem })).toBe('accepted');
    expect(refusal({ cert: good.certPem + ca.certPem, key: good.keyPem })).toBe('accepted');
  });

  it.each([
    // OpenSSL itself loads an empty certificate file and then serves no certificate at all.
    ['an empty certificate file', () => ({ cert: '', key: good.keyPem }), 'malformed'],
    ['a certificate truncated in its body', () => ({ cert: good.certPem.slice(0, good.certPem.length / 2), key: good.keyPem }), 'malformed'],
    // The leaf parses; the chain after it is cut: OpenSSL would serve the leaf alone.
    ['a chain truncated after the leaf', () => ({ cert: good.certPem + ca.certPem.slice(0, ca.certPem.length / 2), key: good.keyPem }), 'malformed'],
    ['an empty key file', () => ({ cert: good.certPem, key: '' }), 'malformed'],
    ['a truncated key', () => ({ cert: good.certPem, key: good.keyPem.slice(0, good.keyPem.length / 2) }), 'malformed'],
    ['a key that is not the certificate’s', () => ({ cert: good.certPem, key: other.keyPem }), 'mismatched'],
    // OpenSSL loads an expired pair without complaint; every client then refuses the handshake.
    ['an expired certificate', () => ({ cert: expired.certPem, key: expired.keyPem }), 'expired'],
    ['a certificate not valid yet', () => ({ cert: future.certPem, key: future.keyPem }), 'not-yet-valid'],
  ] as const)('%s', (_label, pair, reason) => {
    expect(refusal(pair())).toBe(reason);
  });
});

describe('F2 readTlsPair', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollguard-tls-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names a missing file as unreadable', async () => {
    await expect(readTlsPair(join(dir, 'nope.crt'), join(dir, 'nope.key'))).rejects.toMatchObject({ reason: 'unreadable' });
  });

  it('refuses an expired pair on disk, checked against the wall clock it is given', async () => {
    await writeFile(join(dir, 'tls.crt'), good.certPem);
    await writeFile(join(dir, 'tls.key'), good.keyPem);
    await expect(readTlsPair(join(dir, 'tls.crt'), join(dir, 'tls.key'), now)).resolves.toEqual({ cert: good.certPem, key: good.keyPem });
    await expect(readTlsPair(join(dir, 'tls.crt'), join(dir, 'tls.key'), now + 11 * DAY)).rejects.toMatchObject({ reason: 'expired' });
  });
});

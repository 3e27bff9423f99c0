import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCa, createServingCert, describeCert, issuedBy, keyMatches, type KeyPairPem } from './x509.js';

// The certificate directory as `rollguard certs` maintains it: ca.crt/ca.key (reused across runs,
// so the caBundle in the webhook configurations stays valid) and tls.crt/tls.key (the serving pair,
// renewed when near expiry or when the names change). Keys are written 0600.

const DAY_MS = 86_400_000;
const CA_DAYS = 3650;

export const CERT_FILES = { caCert: 'ca.crt', caKey: 'ca.key', cert: 'tls.crt', key: 'tls.key' } as const;

export interface EnsureOptions {
  outDir: string;
  names: readonly string[];
  days: number;
  now: number;
}

export interface EnsureResult {
  caPem: string;
  caCreated: boolean;
  leafIssued: boolean;
  /** Why the serving certificate was (re)issued, or why it was kept. */
  reason: string;
  paths: { caCert: string; caKey: string; cert: string; key: string };
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes through a temporary file and a rename, so a webhook watching the files never reads half a PEM. */
async function writeAtomic(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid.toString()}`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

/** Renew when less than a third of the lifetime (at most 30 days) remains. */
export function renewalWindowMs(days: number): number {
  return Math.min(30 * DAY_MS, (days * DAY_MS) / 3);
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Returns why the existing serving certificate must be replaced, or undefined when it can stay. */
export function leafRenewalReason(leaf: KeyPairPem | undefined, ca: KeyPairPem, opts: EnsureOptions): string | undefined {
  if (leaf === undefined) return 'no serving certificate yet';
  if (!keyMatches(leaf.certPem, leaf.keyPem)) return 'tls.key does not belong to tls.crt';
  if (!issuedBy(leaf.certPem, ca.certPem)) return 'tls.crt was not issued by the CA in ca.crt';
  const info = describeCert(leaf.certPem);
  if (!sameNames([...info.dnsNames, ...info.ipAddresses], opts.names)) return `its names (${[...info.dnsNames, ...info.ipAddresses].join(', ')}) differ from --dns`;
  if (info.notAfter - opts.now < renewalWindowMs(opts.days)) return `it expires ${new Date(info.notAfter).toISOString()}, within the renewal window`;
  return undefined;
}

function caUsable(ca: KeyPairPem, opts: EnsureOptions): boolean {
  if (!keyMatches(ca.certPem, ca.keyPem)) return false;
  const info = describeCert(ca.certPem);
  // The CA must outlive any leaf it signs now.
  return info.isCa && info.notAfter > opts.now + opts.days * DAY_MS;
}

export async function ensureCertificates(opts: EnsureOptions): Promise<EnsureResult> {
  if (opts.names.length === 0) throw new Error('at least one name is needed (--dns NAME[,NAME…]); the apiserver checks the serving certificate by its SANs');
  if (!Number.isInteger(opts.days) || opts.days < 1) throw new Error(`--days must be a whole number of days ≥ 1 (got ${String(opts.days)})`);
  await mkdir(opts.outDir, { recursive: true });
  const paths = {
    caCert: join(opts.outDir, CERT_FILES.caCert),
    caKey: join(opts.outDir, CERT_FILES.caKey),
    cert: join(opts.outDir, CERT_FILES.cert),
    key: join(opts.outDir, CERT_FILES.key),
  };
  const [caCert, caKey, cert, key] = await Promise.all([paths.caCert, paths.caKey, paths.cert, paths.key].map(readIfExists));

  let ca: KeyPairPem | undefined = caCert !== undefined && caKey !== undefined ? { certPem: caCert, keyPem: caKey } : undefined;
  let caCreated = false;
  if (ca === undefined || !caUsable(ca, opts)) {
    ca = createCa({ days: Math.max(CA_DAYS, opts.days * 2), now: opts.now });
    await writeAtomic(paths.caKey, ca.keyPem, 0o600);
    await writeAtomic(paths.caCert, ca.certPem, 0o644);
    caCreated = true;
  }

  const leaf = cert !== undefined && key !== undefined ? { certPem: cert, keyPem: key } : undefined;
  const reason = caCreated ? 'a new CA was created' : leafRenewalReason(leaf, ca, opts);
  if (reason === undefined) {
    return { caPem: ca.certPem, caCreated, leafIssued: false, reason: 'the serving certificate is valid and not near expiry', paths };
  }
  const issued = createServingCert({ ca, names: opts.names, days: opts.days, now: opts.now });
  // Key first: a watcher reloading on the certificate's change then finds the matching key.
  await writeAtomic(paths.key, issued.keyPem, 0o600);
  await writeAtomic(paths.cert, issued.certPem, 0o644);
  return { caPem: ca.certPem, caCreated, leafIssued: true, reason, paths };
}

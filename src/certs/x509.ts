import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

// A development/cluster CA and the webhook's serving certificate, made with node-forge. The
// apiserver verifies the serving certificate by its subjectAltName (a CN alone is rejected), so
// every name goes into the SAN extension. Serial numbers are random, never "01".

const DAY_MS = 86_400_000;

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface CertInfo {
  serial: string;
  subjectCn: string;
  issuerCn: string;
  notBefore: number;
  notAfter: number;
  dnsNames: string[];
  ipAddresses: string[];
  isCa: boolean;
}

/** node-forge ends PEM lines with CRLF; files, caBundle and diffs want LF. */
function pem(text: string): string {
  return text.replace(/\r\n/g, '\n');
}

function pair(cert: forge.pki.Certificate, key: forge.pki.rsa.PrivateKey): KeyPairPem {
  return { certPem: pem(forge.pki.certificateToPem(cert)), keyPem: pem(forge.pki.privateKeyToPem(key)) };
}

/** 16 random bytes as hex with the top bit cleared: a positive, non-sequential serial (RFC 5280 §4.1.2.2). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function newCert(commonName: string, days: number, now: number): { cert: forge.pki.Certificate; keys: forge.pki.rsa.KeyPair } {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = randomSerial();
  // Backdated a few minutes so a node whose clock lags slightly still accepts a fresh certificate.
  cert.validity.notBefore = new Date(now - 5 * 60_000);
  cert.validity.notAfter = new Date(now + days * DAY_MS);
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  return { cert, keys };
}

export function createCa(opts: { commonName?: string; days: number; now: number }): KeyPairPem {
  const { cert, keys } = newCert(opts.commonName ?? 'rollguard-ca', opts.days, opts.now);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return pair(cert, keys.privateKey);
}

/** SAN entries: DNS names as type 2, IP addresses (for loopback tests and IP-addressed webhooks) as type 7. */
export function subjectAltNames(names: readonly string[]): { type: number; value?: string; ip?: string }[] {
  return names.map((name) => (isIP(name) !== 0 ? { type: 7, ip: name } : { type: 2, value: name }));
}

export function createServingCert(opts: { ca: KeyPairPem; names: readonly string[]; days: number; now: number }): KeyPairPem {
  const first = opts.names[0];
  if (first === undefined) throw new Error('a serving certificate needs at least one DNS name (--dns)');
  const caCert = forge.pki.certificateFromPem(opts.ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(opts.ca.keyPem);
  const { cert, keys } = newCert(first, opts.days, opts.now);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: subjectAltNames(opts.names) },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return pair(cert, keys.privateKey);
}

function cn(attrs: forge.pki.CertificateField[]): string {
  const value = attrs.find((a) => a.name === 'commonName')?.value;
  return typeof value === 'string' ? value : '';
}

export function describeCert(certPem: string): CertInfo {
  const cert = forge.pki.certificateFromPem(certPem);
  const san = cert.getExtension('subjectAltName') as { altNames?: { type: number; value?: string; ip?: string }[] } | null;
  const alt = san?.altNames ?? [];
  const basic = cert.getExtension('basicConstraints') as { cA?: boolean } | null;
  return {
    serial: cert.serialNumber,
    subjectCn: cn(cert.subject.attributes),
    issuerCn: cn(cert.issuer.attributes),
    notBefore: cert.validity.notBefore.getTime(),
    notAfter: cert.validity.notAfter.getTime(),
    dnsNames: alt.flatMap((a) => (a.type === 2 && a.value !== undefined ? [a.value] : [])),
    ipAddresses: alt.flatMap((a) => (a.type === 7 && a.ip !== undefined ? [a.ip] : [])),
    isCa: basic?.cA === true,
  };
}

/** True when `certPem` was signed by the CA in `caCertPem`. */
export function issuedBy(certPem: string, caCertPem: string): boolean {
  try {
    const ca = forge.pki.certificateFromPem(caCertPem);
    return ca.verify(forge.pki.certificateFromPem(certPem));
  } catch {
    return false;
  }
}

/** True when the private key in `keyPem` belongs to the certificate in `certPem`. */
export function keyMatches(certPem: string, keyPem: string): boolean {
  try {
    const cert = forge.pki.certificateFromPem(certPem);
    const key = forge.pki.privateKeyFromPem(keyPem);
    const pub = cert.publicKey as forge.pki.rsa.PublicKey;
    return pub.n.equals(key.n) && pub.e.equals(key.e);
  } catch {
    return false;
  }
}

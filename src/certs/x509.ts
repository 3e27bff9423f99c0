import { X509Certificate, createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

// A development/cluster CA and the webhook's serving certificate. Keys are ECDSA P-256: a TLS
// handshake then signs in tens of microseconds instead of the milliseconds of RSA-2048, which
// under load is a tenth of the webhook's CPU when one request in ten opens a connection. Keys
// and signatures come from node:crypto; node-forge encodes the certificate (its own signing is
// RSA-only). A CA made with RSA by an earlier version still signs: the signature follows the CA's
// key. The apiserver verifies the serving certificate by its subjectAltName (a CN alone is
// rejected), so every name goes into the SAN extension. Serial numbers are random, never "01".

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

/**
 * 16 random bytes as hex, a positive, non-sequential serial (RFC 5280 §4.1.2.2): the top bit
 * cleared (positive) and the next one set, so the first byte is never zero. DER wants an INTEGER
 * in its fewest bytes, and Go's parser, the apiserver's, refuses a certificate whose serial
 * starts with a needless zero byte, as one in 128 would.
 */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

/** SAN entries: DNS names as type 2, IP addresses (for loopback tests and IP-addressed webhooks) as type 7. */
export function subjectAltNames(names: readonly string[]): { type: number; value?: string; ip?: string }[] {
  return names.map((name) => (isIP(name) !== 0 ? { type: 7, ip: name } : { type: 2, value: name }));
}

const { asn1 } = forge;
const UNIVERSAL = asn1.Class.UNIVERSAL;

const oid = (dotted: string): forge.asn1.Asn1 => asn1.create(UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes());

/** Signature algorithms by the signing key's type (RFC 5758 §3.2: ECDSA's parameters are absent; RFC 4055: RSA's are NULL). */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, { oid: string; nullParameters: boolean }>> = {
  ec: { oid: '1.2.840.10045.4.3.2', nullParameters: false },
  rsa: { oid: '1.2.840.113549.1.1.11', nullParameters: true },
};

function signatureAlgorithm(key: KeyObject): forge.asn1.Asn1 {
  const type = key.asymmetricKeyType ?? 'unknown';
  const algorithm = SIGNATURE_ALGORITHMS[type];
  if (algorithm === undefined) throw new Error(`the CA key is ${type}; rollguard signs with EC or RSA CA keys`);
  const id = oid(algorithm.oid);
  return asn1.create(UNIVERSAL, asn1.Type.SEQUENCE, true, algorithm.nullParameters ? [id, asn1.create(UNIVERSAL, asn1.Type.NULL, false, '')] : [id]);
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(date: Date): forge.asn1.Asn1 {
  return date.getUTCFullYear() < 2050
    ? asn1.create(UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

/** forge holds bytes as binary strings. */
const binary = (der: Buffer): string => der.toString('binary');
const toDer = (node: forge.asn1.Asn1): Buffer => Buffer.from(asn1.toDer(node).getBytes(), 'binary');

/**
 * SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1), as forge bytes: the key
 * identifier. Those bits are the uncompressed point for an EC key and the PKCS#1 RSAPublicKey for
 * an RSA one.
 */
function keyIdentifier(publicKey: KeyObject): string {
  const sha1 = createHash('sha1');
  if (publicKey.asymmetricKeyType === 'rsa') return sha1.update(publicKey.export({ type: 'pkcs1', format: 'der' })).digest('binary');
  const { x, y } = publicKey.export({ format: 'jwk' });
  return sha1.update(Buffer.concat([Buffer.of(4), Buffer.from(x ?? '', 'base64url'), Buffer.from(y ?? '', 'base64url')])).digest('binary');
}

/**
 * The subject of a certificate as it is encoded there: a leaf's issuer must be its CA's subject
 * byte for byte, whatever attributes a CA brought to the certificate directory carries.
 */
function encodedSubject(cert: X509Certificate): forge.asn1.Asn1 {
  const tbs = (asn1.fromDer(binary(cert.raw)).value as forge.asn1.Asn1[])[0]?.value as forge.asn1.Asn1[];
  // TBSCertificate: [0] version (absent in a v1 certificate), serial, signature, issuer, validity, subject.
  const subject = tbs[tbs[0]?.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 5 : 4];
  if (subject === undefined) throw new Error('the CA certificate has no subject');
  return subject;
}

/**
 * The TBSCertificate's context-specific tags [0] (version) and [3] (extensions). forge's typings
 * take a universal Type for every tag, so they are named by the Types with the same numbers.
 */
const CONTEXT_TAG = { version: asn1.Type.NONE, extensions: asn1.Type.BITSTRING } as const;

/** An extension as forge's setExtensions leaves it: its value encoded. */
interface EncodedExtension {
  id: string;
  critical?: boolean;
  value: forge.asn1.Asn1;
}

/** [3] EXPLICIT Extensions (RFC 5280 §4.1): each OID, critical when it is, the value's DER in an OCTET STRING. */
function extensionsAsn1(extensions: readonly EncodedExtension[]): forge.asn1.Asn1 {
  const each = extensions.map((e) =>
    asn1.create(UNIVERSAL, asn1.Type.SEQUENCE, true, [
      oid(e.id),
      ...(e.critical === true ? [asn1.create(UNIVERSAL, asn1.Type.BOOLEAN, false, '\u00ff')] : []),
      asn1.create(UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1.toDer(e.value).getBytes()),
    ]),
  );
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, CONTEXT_TAG.extensions, true, [asn1.create(UNIVERSAL, asn1.Type.SEQUENCE, true, each)]);
}

interface CertSpec {
  subject: string;
  /** The issuing CA's encoded subject; undefined for a self-signed certificate. */
  issuer: forge.asn1.Asn1 | undefined;
  publicKey: KeyObject;
  signer: KeyObject;
  days: number;
  now: number;
  extensions: object[];
}

/** Encodes and signs an X.509 v3 certificate. */
function issue(spec: CertSpec): string {
  // forge builds the names and extensions; the rest of the TBSCertificate is assembled here.
  const fields = forge.pki.createCertificate();
  fields.setSubject([{ name: 'commonName', value: spec.subject }]);
  fields.setExtensions(spec.extensions);
  const subject = forge.pki.distinguishedNameToAsn1(fields.subject);
  const algorithm = signatureAlgorithm(spec.signer);
  // Backdated a few minutes so a node whose clock lags slightly still accepts a fresh certificate.
  const validity = [time(new Date(spec.now - 5 * 60_000)), time(new Date(spec.now + spec.days * DAY_MS))];
  const tbs = asn1.create(UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, CONTEXT_TAG.version, true, [asn1.create(UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(2).getBytes())]),
    asn1.create(UNIVERSAL, asn1.Type.INTEGER, false, forge.util.hexToBytes(randomSerial())),
    algorithm,
    spec.issuer ?? subject,
    asn1.create(UNIVERSAL, asn1.Type.SEQUENCE, true, validity),
    subject,
    asn1.fromDer(binary(spec.publicKey.export({ type: 'spki', format: 'der' }))),
    extensionsAsn1(fields.extensions as EncodedExtension[]),
  ]);
  // ECDSA signatures come DER-encoded (dsaEncoding's default), as X.509 wants them.
  const signature = sign('sha256', toDer(tbs), spec.signer);
  const certificate = asn1.create(UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    algorithm,
    asn1.create(UNIVERSAL, asn1.Type.BITSTRING, false, `\u0000${binary(signature)}`),
  ]);
  // Node writes the PEM (LF line ends), and reading the DER back first proves it parses.
  return new X509Certificate(toDer(certificate)).toString();
}

function newKey(): { privateKey: KeyObject; publicKey: KeyObject; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, publicKey, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

export function createCa(opts: { commonName?: string; days: number; now: number }): KeyPairPem {
  const key = newKey();
  const certPem = issue({
    subject: opts.commonName ?? 'rollguard-ca',
    issuer: undefined,
    publicKey: key.publicKey,
    signer: key.privateKey,
    days: opts.days,
    now: opts.now,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      // Given as its encoded value: forge would derive it from an RSA key.
      { name: 'subjectKeyIdentifier', value: asn1.create(UNIVERSAL, asn1.Type.OCTETSTRING, false, keyIdentifier(key.publicKey)) },
    ],
  });
  return { certPem, keyPem: key.keyPem };
}

export function createServingCert(opts: { ca: KeyPairPem; names: readonly string[]; days: number; now: number }): KeyPairPem {
  const first = opts.names[0];
  if (first === undefined) throw new Error('a serving certificate needs at least one DNS name (--dns)');
  const ca = new X509Certificate(opts.ca.certPem);
  const key = newKey();
  const certPem = issue({
    subject: first,
    issuer: encodedSubject(ca),
    publicKey: key.publicKey,
    signer: createPrivateKey(opts.ca.keyPem),
    days: opts.days,
    now: opts.now,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      // No keyEncipherment: an ECDSA key signs the handshake and never decrypts a key exchange.
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: subjectAltNames(opts.names) },
      { name: 'authorityKeyIdentifier', keyIdentifier: keyIdentifier(ca.publicKey) },
    ],
  });
  return { certPem, keyPem: key.keyPem };
}

/** The CN of a distinguished name as Node prints it ("CN=rollguard-ca", one attribute per line). */
function commonName(dn: string): string {
  return dn.split('\n').find((line) => line.startsWith('CN='))?.slice(3) ?? '';
}

/** Node lists IPv6 addresses in SANs written out in full; the URL parser's form matches what a person writes. */
function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]`).hostname.slice(1, -1) : ip;
}

/** Node's "DNS:a, IP Address:10.0.0.7" subjectAltName text, split by type. */
function sanEntries(text: string | undefined): { dnsNames: string[]; ipAddresses: string[] } {
  const entries = text === undefined || text === '' ? [] : text.split(', ');
  return {
    dnsNames: entries.flatMap((e) => (e.startsWith('DNS:') ? [e.slice(4)] : [])),
    ipAddresses: entries.flatMap((e) => (e.startsWith('IP Address:') ? [canonicalIp(e.slice(11))] : [])),
  };
}

export function describeCert(certPem: string): CertInfo {
  const cert = new X509Certificate(certPem);
  return {
    serial: cert.serialNumber.toLowerCase(),
    subjectCn: commonName(cert.subject),
    issuerCn: commonName(cert.issuer),
    notBefore: Date.parse(cert.validFrom),
    notAfter: Date.parse(cert.validTo),
    ...sanEntries(cert.subjectAltName),
    isCa: cert.ca,
  };
}

/** True when `certPem` was signed by the CA in `caCertPem`. */
export function issuedBy(certPem: string, caCertPem: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caCertPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/** True when the private key in `keyPem` belongs to the certificate in `certPem`. */
export function keyMatches(certPem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

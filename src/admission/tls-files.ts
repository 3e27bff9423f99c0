import { unwatchFile, watch, watchFile, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { readFile } from 'node:fs/promises';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';

// The serving certificate and key from files, reloaded when they change (cert rotation, a
// Kubernetes Secret volume swapping its `..data` symlink) without restarting the server: existing
// connections keep their session, new handshakes get the new certificate. A pair that would fail
// handshakes is refused with its reason, and the previous one stays in use: an empty or truncated
// file (OpenSSL loads an empty certificate without complaint and then serves no certificate at
// all), a key that is not the certificate's, a certificate outside its validity period.

export interface TlsPair {
  cert: string;
  key: string;
}

export type TlsRefusal = 'unreadable' | 'malformed' | 'mismatched' | 'expired' | 'not-yet-valid';

export class TlsPairError extends Error {
  constructor(
    readonly reason: TlsRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'TlsPairError';
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function certificates(cert: string): X509Certificate[] {
  const blocks = cert.match(PEM_CERT) ?? [];
  const begun = cert.split('-----BEGIN ').length - 1;
  if (blocks.length === 0) throw new TlsPairError('malformed', 'the certificate file holds no PEM certificate (empty or truncated)');
  if (begun !== blocks.length) throw new TlsPairError('malformed', 'the certificate file ends inside a PEM block (truncated)');
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new TlsPairError('malformed', `certificate ${String(i + 1)} of the file does not parse: ${(err as Error).message}`);
    }
  });
}

function privateKey(key: string): KeyObject {
  try {
    return createPrivateKey(key);
  } catch (err) {
    throw new TlsPairError('malformed', `the key file holds no readable private key (empty or truncated): ${(err as Error).message}`);
  }
}

/** Throws a TlsPairError naming why `cert`/`key` cannot serve at `now` (wall clock: what TLS clients check against). */
export function checkTlsPair(pair: TlsPair, now: number): void {
  const leaf = certificates(pair.cert)[0] as X509Certificate;
  if (!leaf.checkPrivateKey(privateKey(pair.key))) throw new TlsPairError('mismatched', `the key does not belong to the certificate (serial ${leaf.serialNumber})`);
  const notBefore = Date.parse(leaf.validFrom);
  const notAfter = Date.parse(leaf.validTo);
  if (now > notAfter) throw new TlsPairError('expired', `the certificate (serial ${leaf.serialNumber}) expired at ${new Date(notAfter).toISOString()}`);
  if (now < notBefore) throw new TlsPairError('not-yet-valid', `the certificate (serial ${leaf.serialNumber}) is valid only from ${new Date(notBefore).toISOString()}`);
  try {
    createSecureContext(pair);
  } catch (err) {
    throw new TlsPairError('malformed', `OpenSSL refuses the pair: ${(err as Error).message}`);
  }
}

async function readBoth(certFile: string, keyFile: string): Promise<TlsPair> {
  try {
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    return { cert, key };
  } catch (err) {
    throw new TlsPairError('unreadable', (err as Error).message);
  }
}

/**
 * The two files are read one after the other, so a read can straddle a Secret volume's symlink swap
 * (old certificate, new key): read again until two reads agree.
 */
async function readTlsFiles(certFile: string, keyFile: string): Promise<TlsPair> {
  let pair = await readBoth(certFile, keyFile);
  for (let attempt = 0; attempt < 3; attempt++) {
    const again = await readBoth(certFile, keyFile);
    if (again.cert === pair.cert && again.key === pair.key) break;
    pair = again;
  }
  return pair;
}

/** Reads the pair and checks it can serve at `now`; throws a TlsPairError naming why not. */
export async function readTlsPair(certFile: string, keyFile: string, now: number = Date.now()): Promise<TlsPair> {
  const pair = await readTlsFiles(certFile, keyFile);
  checkTlsPair(pair, now);
  return pair;
}

export interface TlsWatcher {
  stop(): void;
}

/** Quiet time after a change in the files' directory before they are read (a writer may be mid-way). */
const SETTLE_MS = 100;

/**
 * Watches the files' directories (a Secret volume's `..data` rename is seen at once) and polls the
 * files' stat (follows symlinks) every `intervalMs` as well, where directory events do not arrive.
 * One swap changes both files, so both are seen changing: the pair is loaded, or refused, once.
 */
export function watchTlsFiles(opts: {
  certFile: string;
  keyFile: string;
  intervalMs: number;
  /** The pair being served. */
  current: TlsPair;
  onPair: (pair: TlsPair) => void;
  onError: (err: TlsPairError) => void;
  now?: () => number;
}): TlsWatcher {
  const now = opts.now ?? Date.now;
  let pending: Promise<void> = Promise.resolve();
  let seen = opts.current;
  const reload = (): void => {
    pending = pending.then(async () => {
      try {
        const next = await readTlsFiles(opts.certFile, opts.keyFile);
        if (next.cert === seen.cert && next.key === seen.key) return;
        seen = next;
        checkTlsPair(next, now());
        opts.onPair(next);
      } catch (err) {
        opts.onError(err instanceof TlsPairError ? err : new TlsPairError('malformed', String(err)));
      }
    });
  };
  let settle: NodeJS.Timeout | undefined;
  const changed = (): void => {
    clearTimeout(settle);
    settle = setTimeout(reload, SETTLE_MS);
  };
  const dirs: FSWatcher[] = [];
  for (const dir of new Set([dirname(opts.certFile), dirname(opts.keyFile)])) {
    try {
      dirs.push(watch(dir, { persistent: false }, changed).on('error', () => undefined));
    } catch {
      // No directory events here (e.g. out of inotify watches): the stat poll still sees changes.
    }
  }
  watchFile(opts.certFile, { interval: opts.intervalMs }, reload);
  watchFile(opts.keyFile, { interval: opts.intervalMs }, reload);
  return {
    stop() {
      clearTimeout(settle);
      for (const d of dirs) d.close();
      unwatchFile(opts.certFile, reload);
      unwatchFile(opts.keyFile, reload);
    },
  };
}

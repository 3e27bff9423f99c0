import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';

// The serving certificate and key from files, reloaded when they change (cert rotation, a
// Kubernetes Secret volume swapping its symlink) without restarting the server: existing
// connections keep their session, new handshakes get the new certificate. A half-written or
// mismatched pair is not loaded; the previous one stays in use.

export interface TlsPair {
  cert: string;
  key: string;
}

export async function readTlsPair(certFile: string, keyFile: string): Promise<TlsPair> {
  const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  // Throws when the key does not match the certificate or either is not PEM.
  createSecureContext({ cert, key });
  return { cert, key };
}

export interface TlsWatcher {
  stop(): void;
}

/** Polls the files' stat (follows symlinks, so a Secret volume update is seen) every `intervalMs`. */
export function watchTlsFiles(opts: {
  certFile: string;
  keyFile: string;
  intervalMs: number;
  onPair: (pair: TlsPair) => void;
  onError: (err: Error) => void;
}): TlsWatcher {
  let pending: Promise<void> = Promise.resolve();
  const reload = (): void => {
    pending = pending.then(async () => {
      try {
        opts.onPair(await readTlsPair(opts.certFile, opts.keyFile));
      } catch (err) {
        opts.onError(err instanceof Error ? err : new Error(String(err)));
      }
    });
  };
  watchFile(opts.certFile, { interval: opts.intervalMs }, reload);
  watchFile(opts.keyFile, { interval: opts.intervalMs }, reload);
  return {
    stop() {
      unwatchFile(opts.certFile, reload);
      unwatchFile(opts.keyFile, reload);
    },
  };
}

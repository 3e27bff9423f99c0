import { readFileSync } from 'node:fs';
import { pooledAgent, type KubeConnection } from './connection.js';
import { SERVICE_ACCOUNT_DIR } from './service-account.js';

// The pod's own service account, read directly: the apiserver from KUBERNETES_SERVICE_HOST/PORT, the
// CA and the token from the mounted files. The token is a bound token the kubelet rotates (about
// hourly), so it is read again once a minute, as client-go does.

const TOKEN_REREAD_MS = 60_000;

export class InClusterError extends Error {}

function serverFromEnv(): string {
  const host = process.env.KUBERNETES_SERVICE_HOST ?? '';
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  if (host === '') throw new InClusterError('KUBERNETES_SERVICE_HOST is not set: not running in a pod');
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function readOrExplain(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InClusterError(`cannot read the service account's ${what} at ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** `root` prefixes the service-account files (tests); `clock` decides when the token is read again. */
export function inClusterConnection(root = '', clock: () => number = Date.now): KubeConnection {
  const dir = `${root}${SERVICE_ACCOUNT_DIR}`;
  const server = serverFromEnv();
  const agent = pooledAgent(server, { ca: readOrExplain(`${dir}/ca.crt`, 'CA certificate') });
  let token = '';
  let readAt = Number.NEGATIVE_INFINITY;
  const currentToken = (): string => {
    const now = clock();
    if (now - readAt >= TOKEN_REREAD_MS) {
      // A failed re-read keeps the token it had: the kubelet writes the new one atomically, and the
      // old one stays valid well past its rotation.
      try {
        token = readOrExplain(`${dir}/token`, 'token').toString('utf8').trim();
        readAt = now;
      } catch (err) {
        if (token === '') throw err;
      }
    }
    return token;
  };
  currentToken();
  return {
    server,
    source: "the pod's service account",
    userName: undefined,
    requestOptions: () => Promise.resolve({ agent, headers: { Authorization: `Bearer ${currentToken()}` } }),
  };
}

import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

// Probes of the dependencies that have no cheaper check of their own. The decision webhook is only
// connected to (TCP, and the TLS handshake for https): a request, even a HEAD, could be taken for
// a delivery by a receiver, and a fake decision would be one.

const TIMEOUT_MS = 5000;

/** Resolves once host:port of the URL accepts a connection (and completes TLS for https). Errors name host:port, never the path. */
export function connectProbe(url: string, timeoutMs = TIMEOUT_MS): Promise<void> {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port === '' ? (tls ? 443 : 80) : u.port);
  const where = `${u.hostname}:${String(port)}`;
  return new Promise((resolve, reject) => {
    const socket: Socket = tls ? connectTls({ host, port, servername: host, ALPNProtocols: ['http/1.1'] }) : connectTcp({ host, port });
    const done = (err?: Error): void => {
      socket.destroy();
      if (err === undefined) resolve();
      else reject(new Error(`cannot ${tls ? 'open a TLS connection to' : 'connect to'} ${where}: ${err.message}`));
    };
    socket.setTimeout(timeoutMs, () => {
      done(new Error(`no answer within ${String(timeoutMs / 1000)}s`));
    });
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      done();
    });
    socket.once('error', done);
  });
}

import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { assertLoopback } from '../support/process.js';

// A TLS-terminating reverse proxy on 127.0.0.1 in front of the apiserver: processes given a
// kubeconfig whose server is this proxy send every API request through it, streamed both ways
// (watches included), and the proxy records each one: who (by bearer token), method, path, Accept,
// status, and whether a response carried a whole Secret or SecretList.

export interface RecordedRequest {
  who: string;
  method: string;
  /** Path and query as sent. */
  url: string;
  accept: string;
  status: number | undefined;
  /** The response body had `"kind":"Secret…`: a full Secret or SecretList, not metadata. */
  fullSecret: boolean;
}

export interface RecordingProxy {
  url: string;
  readonly requests: readonly RecordedRequest[];
  stop(): Promise<void>;
}

export interface RecordingProxyOptions {
  upstream: string;
  /** PEM CA of the apiserver. */
  upstreamCa: string;
  /** The proxy's own serving pair (for 127.0.0.1). */
  cert: string;
  key: string;
  /** Bearer token → the name requests carrying it are recorded under. */
  identities: ReadonlyMap<string, string>;
}

const FULL_SECRET = '"kind":"Secret';

const tokenId = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function startRecordingProxy(opts: RecordingProxyOptions): Promise<RecordingProxy> {
  assertLoopback(opts.upstream);
  const upstream = new URL(opts.upstream);
  const names = new Map([...opts.identities].map(([token, name]) => [tokenId(token), name]));
  const requests: RecordedRequest[] = [];
  const server: Server = createServer({ cert: opts.cert, key: opts.key }, (req, res) => {
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
    const record: RecordedRequest = {
      who: token === '' ? 'anonymous' : (names.get(tokenId(token)) ?? 'unknown'),
      method: req.method ?? '',
      url: req.url ?? '',
      accept: req.headers.accept ?? '',
      status: undefined,
      fullSecret: false,
    };
    requests.push(record);
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host }, ca: opts.upstreamCa },
      (upstreamRes) => {
        record.status = upstreamRes.statusCode;
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        // As the apiserver does for a watch: the client sees the response before the first event.
        res.flushHeaders();
        // The marker may straddle two chunks: keep the last few bytes of the previous one.
        let tail = '';
        upstreamRes.on('data', (chunk: Buffer) => {
          const text = tail + chunk.toString('latin1');
          if (text.includes(FULL_SECRET)) record.fullSecret = true;
          tail = text.slice(-FULL_SECRET.length);
          res.write(chunk);
        });
        upstreamRes.on('end', () => res.end());
        upstreamRes.on('error', () => res.destroy());
      },
    );
    forward.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${err.message}\n`);
    });
    req.pipe(forward);
    // A client that goes away (a stopped watch) ends the upstream request too.
    res.on('close', () => forward.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${String(port)}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { monitorEventLoopDelay } from 'node:perf_hooks';

// The floor the load parts compare rollguard's webhook with: a bare node:https server that reads
// each body, parses it and echoes its uid in an allowed AdmissionReview, with the same TLS files
// and keep-alive timeout as the webhook. GET /eventloop answers the event-loop delay since the last
// such request ({ p99Ms, maxMs }), measured as the webhook's /metrics measures its own (10 ms
// resolution, reset at each read). Run as its own process:
//   tsx bench/harden/echo-server.ts CERT KEY PORT

const [certFile, keyFile, port] = process.argv.slice(2);
if (certFile === undefined || keyFile === undefined || port === undefined) throw new Error('usage: echo-server.ts CERT KEY PORT');

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();

const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: 'TLSv1.2' }, (req, res) => {
  if (req.method === 'GET' && req.url === '/eventloop') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6 }));
    delay.reset();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { apiVersion?: string; request?: { uid?: string } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: review.apiVersion, kind: 'AdmissionReview', response: { uid: review.request?.uid, allowed: true } }));
    } catch {
      res.writeHead(400).end();
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(port), '127.0.0.1');
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});

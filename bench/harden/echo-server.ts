import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

// The floor the load parts compare rollguard's webhook with: a bare node:https server that reads
// each body, parses it and echoes its uid in an allowed AdmissionReview, with the same TLS files
// and keep-alive timeout as the webhook. Run as its own process:
//   tsx bench/harden/echo-server.ts CERT KEY PORT

const [certFile, keyFile, port] = process.argv.slice(2);
if (certFile === undefined || keyFile === undefined || port === undefined) throw new Error('usage: echo-server.ts CERT KEY PORT');

const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile), minVersion: 'TLSv1.2' }, (req, res) => {
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

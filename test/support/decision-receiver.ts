import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature, type SignatureCheck } from '../../src/agent/webhook-signature.js';

// A receiver of rollguard's decision webhook on 127.0.0.1, doing what a real one should: read the
// raw body, verify X-Rollguard-Signature with the shared secret before trusting anything, answer
// with the status a test chooses for each request in turn.

export interface Received {
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  body: unknown;
  signature: SignatureCheck;
  at: number;
}

export class DecisionReceiver {
  readonly received: Received[] = [];
  private readonly server: Server;
  port = 0;

  constructor(
    private readonly secret: string,
    /** The status for the n-th request (0-based); 200 by default. */
    private readonly statusFor: (n: number) => number = () => 200,
  ) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const header = req.headers['x-rollguard-signature'];
        const signature = verifySignature(this.secret, typeof header === 'string' ? header : undefined, raw, Math.floor(Date.now() / 1000));
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          body = undefined;
        }
        const n = this.received.length;
        this.received.push({ headers: req.headers, raw, body, signature, at: Date.now() });
        const status = signature.ok ? this.statusFor(n) : 401;
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(String(status));
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/rollguard`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
      this.server.closeAllConnections();
    });
  }
}

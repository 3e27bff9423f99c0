import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait.js';

// A local HTTP endpoint that records every JSON body POSTed to it (Alertmanager notifications, or
// anything else a test wants to receive) and answers 200.

export interface ReceivedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  at: number;
}

/** Alertmanager's webhook notification, version "4". */
export interface AlertmanagerWebhookPayload {
  version: string;
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: {
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }[];
}

export interface WebhookReceiver {
  /** http://127.0.0.1:PORT/hook */
  url: string;
  readonly received: readonly ReceivedRequest[];
  /**
   * Resolves with the first request (already received or arriving) that `match` accepts; the
   * timeout error lists what did arrive, then `detail()` (e.g. the sender's log tail).
   */
  waitFor(what: string, match: (r: ReceivedRequest) => boolean, opts?: { timeoutMs?: number; detail?: () => string }): Promise<ReceivedRequest>;
  stop: () => Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text
      }
      received.push({ path: req.url ?? '', headers: req.headers, body, at: Date.now() });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    waitFor: (what, match, opts = {}) =>
      waitFor(what, () => received.find(match), {
        timeoutMs: opts.timeoutMs ?? 30_000,
        detail: () => [`received so far (${String(received.length)}): ${JSON.stringify(received.map((r) => r.body)).slice(0, 3000)}`, opts.detail?.() ?? ''].join('\n'),
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { http, https } from '../http/node-http.js';
import type { KubeConnection } from './connection.js';
import { noteAnswered, noteUnreachable } from './reachability.js';

// One request to the apiserver over node:http(s), with the connection's pooled agent and fresh
// credentials. Two forms: a whole answer (status and body text), or an open response to stream (a
// watch). Network failures reject with the underlying error; HTTP statuses are the caller's to read.

export type HeaderValues = Record<string, string | string[]>;

export interface KubeCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query, e.g. /api/v1/namespaces/x/configmaps?limit=500. */
  path: string;
  headers?: HeaderValues;
  body?: string | undefined;
  timeoutMs: number;
}

export interface KubeAnswer {
  status: number;
  text: string;
}

async function open(conn: KubeConnection, call: KubeCall): Promise<{ req: ClientRequest; res: Promise<IncomingMessage> }> {
  const { agent, headers, auth } = await conn.requestOptions();
  const url = new URL(conn.server + call.path);
  const transport = url.protocol === 'http:' ? http : https;
  const allHeaders: OutgoingHttpHeaders = { ...headers, ...call.headers };
  if (call.body !== undefined) allHeaders['Content-Length'] = Buffer.byteLength(call.body);
  const req = transport.request(url, { method: call.method, agent, headers: allHeaders, auth });
  let answered = false;
  const res = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', (r) => {
      answered = true;
      if ((r.statusCode ?? 0) >= 500) noteUnreachable(conn);
      else noteAnswered(conn);
      resolve(r);
    });
    req.once('error', (err) => {
      // After an answer, an error is the response's (or our own close of a watch): not the apiserver's absence.
      if (!answered) noteUnreachable(conn);
      reject(err);
    });
  });
  req.setTimeout(call.timeoutMs, () => req.destroy(new Error(`no answer within ${String(call.timeoutMs / 1000)}s`)));
  req.end(call.body);
  return { req, res };
}

export async function kubeCall(conn: KubeConnection, call: KubeCall): Promise<KubeAnswer> {
  const { req, res: pending } = await open(conn, call);
  const res = await pending;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => { resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }); });
    res.once('error', reject);
    req.once('error', reject);
  });
}

export interface KubeStream {
  res: IncomingMessage;
  /** Ends the request and its response, as a client hanging up. */
  close(): void;
}

/** Opens a long-lived GET (a watch); `idleMs` ends it when nothing arrives for that long. */
export async function kubeStream(conn: KubeConnection, path: string, headers: HeaderValues, idleMs: number): Promise<KubeStream> {
  const { req, res: pending } = await open(conn, { method: 'GET', path, headers, timeoutMs: idleMs });
  const res = await pending;
  return { res, close: () => req.destroy() };
}

/** The message of a network error, reaching into its cause the way fetch wraps them. */
export function networkMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? err.cause.message : err.message;
}

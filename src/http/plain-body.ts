import type { IncomingMessage } from 'node:http';

// A request body read on node:http directly, for the requests that have the plain shape a known
// client sends (the apiserver's reviews, Alertmanager's notifications): a Content-Length within
// the route's limit, no transfer or content encoding. Anything else is left to the caller's
// express app, which answers it in full (chunked bodies, compression, the limit's 413).

const LENGTH = /^\d{1,10}$/;

/** What a body readBody found cut short is answered (400), as body-parser's request.aborted is. */
export const ABORTED = 'the request body was not received completely';

/** The body's length when the request has the plain shape; undefined otherwise. */
export function plainLength(req: IncomingMessage, limit: number): number | undefined {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined || h['content-encoding'] !== undefined) return undefined;
  const text = h['content-length'];
  if (text === undefined || !LENGTH.test(text)) return undefined;
  const length = Number(text);
  return length <= limit ? length : undefined;
}

/** Reads a body of `length` bytes; undefined when it was cut short (an abort, an error). */
export function readBody(req: IncomingMessage, length: number, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let received = 0;
  let settled = false;
  const settle = (body: Buffer | undefined): void => {
    if (settled) return;
    settled = true;
    done(body);
  };
  req.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    received += chunk.length;
  });
  // The HTTP parser ends the body at Content-Length; anything else is a body cut short.
  req.on('end', () => {
    settle(received !== length ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
  });
  req.on('error', () => {
    settle(undefined);
  });
  req.on('aborted', () => {
    settle(undefined);
  });
}

/** The request's path without its query. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

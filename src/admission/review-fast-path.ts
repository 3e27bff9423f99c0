import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerReview, rejectRequest, type Handler, type ReviewDeps } from './review-answer.js';

// The path every review the apiserver sends takes: POST /mutate or /validate (with the apiserver's
// ?timeout=), Content-Type application/json, a Content-Length within the limit, no content
// encoding. Such a request is read and answered on node:http directly: routing, middleware and a
// body parser would cost as much per review as the admission logic. Every other request (another
// method, path spelling, type, encoding or size, a chunked body) takes the express app, which
// answers it exactly as before.

export const JSON_TYPE = /^application\/json\s*(;|$)/i;
const LENGTH = /^\d{1,10}$/;

/** The message of body-parser's request.aborted, which the express path answers with. */
export const ABORTED = 'the request body was not received completely';
/** What a request that failed in a way nobody foresaw is answered (400, as express's error handler does). */
export const UNREADABLE = 'the request could not be read';

/** The body's length when the request has the plain shape above; undefined otherwise. */
function plainLength(req: IncomingMessage, limit: number): number | undefined {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined || h['content-encoding'] !== undefined) return undefined;
  const text = h['content-length'];
  if (text === undefined || !LENGTH.test(text) || !JSON_TYPE.test(h['content-type'] ?? '')) return undefined;
  const length = Number(text);
  return length <= limit ? length : undefined;
}

function readBody(req: IncomingMessage, length: number, done: (body: Buffer | undefined) => void): void {
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

/** Takes the request when it has the plain shape (true), else leaves it to the caller (false). */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

export function reviewFastPath(handlers: readonly Handler[], deps: ReviewDeps, limit: number): FastPath {
  const routes = new Map(handlers.map((h) => [`/${h.name}`, h]));
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const handler = routes.get(q < 0 ? url : url.slice(0, q));
    const length = handler === undefined ? undefined : plainLength(req, limit);
    if (handler === undefined || length === undefined) return false;
    const arrivedAt = performance.now();
    readBody(req, length, (body) => {
      if (body === undefined) {
        rejectRequest(deps, res, 400, ABORTED);
        return;
      }
      answerReview(handler, deps, body, arrivedAt, res).catch(() => {
        if (res.headersSent) res.destroy();
        else rejectRequest(deps, res, 400, UNREADABLE);
      });
    });
    return true;
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ABORTED, pathOf, plainLength, readBody } from '../http/plain-body.js';
import { answerReview, rejectRequest, type Handler, type ReviewDeps } from './review-answer.js';

// The path every review the apiserver sends takes: POST /mutate or /validate (with the apiserver's
// ?timeout=), Content-Type application/json, a Content-Length within the limit, no content
// encoding. Such a request is read and answered on node:http directly: routing, middleware and a
// body parser would cost as much per review as the admission logic. Every other request (another
// method, path spelling, type, encoding or size, a chunked body) takes the express app, which
// answers it exactly as before.

export const JSON_TYPE = /^application\/json\s*(;|$)/i;

/** What a request that failed in a way nobody foresaw is answered (400, as express's error handler does). */
export const UNREADABLE = 'the request could not be read';

/** The body's length when the request has the plain shape of a review; undefined otherwise. */
function reviewLength(req: IncomingMessage, limit: number): number | undefined {
  return JSON_TYPE.test(req.headers['content-type'] ?? '') ? plainLength(req, limit) : undefined;
}

/** Takes the request when it has the plain shape (true), else leaves it to the caller (false). */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

export function reviewFastPath(handlers: readonly Handler[], deps: ReviewDeps, limit: number): FastPath {
  const routes = new Map(handlers.map((h) => [`/${h.name}`, h]));
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const handler = routes.get(pathOf(req));
    const length = handler === undefined ? undefined : reviewLength(req, limit);
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

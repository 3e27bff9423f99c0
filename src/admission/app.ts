import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { addHealthRoutes } from '../health/routes.js';
import { answerReview, rejectRequest, status, type Handler, type ReviewDeps } from './review-answer.js';
import { ABORTED, JSON_TYPE, reviewFastPath, UNREADABLE } from './review-fast-path.js';

export type { Handler, HandlerResult } from './review-answer.js';

// The HTTP boundary, in one place: content type, body size, the admission routes, health and
// metrics, 404/405. Reviews in the shape the apiserver sends them take review-fast-path.ts; every
// other request is routed here by express, and a malformed one gets a precise 4xx (a Kubernetes
// Status body).

/**
 * The apiserver accepts objects up to 3 MiB and a review carries object and oldObject; this is the
 * limit controller-runtime uses for the same reason.
 */
export const MAX_REVIEW_BYTES = 7 * 1024 * 1024;

export interface AppDeps extends ReviewDeps {
  handlers: readonly Handler[];
  ready: () => { ready: boolean; reason: string };
  maxBodyBytes?: number;
}

const BODY_ERRORS: Record<string, (limit: number) => [number, string]> = {
  'entity.too.large': (limit) => [413, `request body is larger than ${String(limit)} bytes, the most an AdmissionReview of the largest object the apiserver accepts can be`],
  'encoding.unsupported': () => [415, 'request body has an unsupported content encoding; send identity, gzip or deflate'],
  'request.aborted': () => [400, ABORTED],
  'request.size.invalid': () => [400, 'the request body length does not match Content-Length'],
};

/** The deadline counts from here: before the body is read. */
function markArrival(_req: Request, res: Response, next: NextFunction): void {
  (res.locals as { arrivedAt?: number }).arrivedAt = performance.now();
  next();
}

function requireJson(req: Request, res: Response, next: NextFunction): void {
  // Checked on the header itself: req.is() answers null for an empty body, whatever the type.
  if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
    status(res, 415, `Content-Type must be application/json (got ${req.headers['content-type'] ?? 'none'})`);
    return;
  }
  next();
}

export function createApp(deps: AppDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const limit = deps.maxBodyBytes ?? MAX_REVIEW_BYTES;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const raw = express.raw({ type: () => true, limit });
  for (const handler of deps.handlers) {
    const path = `/${handler.name}`;
    app.post(path, markArrival, requireJson, raw, (req: Request, res: Response) => answerReview(handler, deps, Buffer.isBuffer(req.body) ? req.body : undefined, (res.locals as { arrivedAt?: number }).arrivedAt ?? performance.now(), res));
    app.all(path, (_req, res) => {
      res.setHeader('Allow', 'POST');
      status(res, 405, `${path} accepts only POST with an AdmissionReview`);
    });
  }
  addHealthRoutes(app, deps);
  app.use((req, res) => {
    status(res, 404, `no route ${req.method} ${req.path}; the webhook serves POST /mutate, POST /validate, GET /healthz, /readyz, /metrics`);
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const type = (err as { type?: unknown }).type;
    const known = typeof type === 'string' ? BODY_ERRORS[type] : undefined;
    const [code, message] = known ? known(limit) : [400, UNREADABLE];
    rejectRequest(deps, res, code, message);
  });
  const fast = reviewFastPath(deps.handlers, deps, limit);
  return (req, res) => {
    if (!fast(req, res)) app(req, res);
  };
}

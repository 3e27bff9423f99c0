import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { addHealthRoutes } from '../health/routes.js';
import type { AppDeps } from './app.js';
import { answerReview, rejectRequest, status } from './review-answer.js';
import { ABORTED } from '../http/plain-body.js';
import { JSON_TYPE, UNREADABLE } from './review-fast-path.js';

// The requests the fast path and the probes leave (app.ts): reviews in another shape, other
// paths and methods. Routed by express; a malformed request gets a precise 4xx (a Kubernetes Status
// body).

const BODY_ERRORS: Record<string, (limit: number) => [number, string]> = {
  'entity.too.large': (limit) => [413, `request body is larger than ${String(limit)} bytes, the most an AdmissionReview of the largest object the apiserver accepts can be`],
  'encoding.unsupported': () => [415, 'request body has an unsupported content encoding; send identity, gzip or deflate'],
  'request.aborted': () => [400, ABORTED],
  'request.size.invalid': () => [400, 'the request body length does not match Content-Length'],
};

function requireJson(req: Request, res: Response, next: NextFunction): void {
  // Checked on the header itself: req.is() answers null for an empty body, whatever the type.
  if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
    status(res, 415, `Content-Type must be application/json (got ${req.headers['content-type'] ?? 'none'})`);
    return;
  }
  next();
}

/** `res.locals.arrivedAt`: set by app.ts when the request arrived, before the body is read. */
export function createExpressApp(deps: AppDeps, limit: number): (req: IncomingMessage, res: ServerResponse) => void {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const raw = express.raw({ type: () => true, limit });
  for (const handler of deps.handlers) {
    const path = `/${handler.name}`;
    app.post(path, requireJson, raw, (req: Request, res: Response) => answerReview(handler, deps, Buffer.isBuffer(req.body) ? req.body : undefined, (res.locals as { arrivedAt?: number }).arrivedAt ?? performance.now(), res));
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
  return app;
}

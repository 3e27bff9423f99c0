import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { addHealthRoutes } from '../health/routes.js';
import { DEFAULT_REVIEW_DEADLINE_MS, EXPIRED, raceDeadline, startProgress, type ReviewProgress } from './deadline.js';
import type { WebhookMetrics, Outcome } from './metrics.js';
import { toReviewResponse, type Verdict } from './response.js';
import { parseReview, type AdmissionRequest } from './review.js';

// The HTTP boundary, in one place: content type, body size, JSON, the AdmissionReview envelope,
// the answer, metrics and the log line. Malformed requests get a precise 4xx (a Kubernetes Status
// body); an exception inside a handler never becomes a bare 500: the webhook fails open (F2).

/**
 * The apiserver accepts objects up to 3 MiB and a review carries object and oldObject; this is the
 * limit controller-runtime uses for the same reason.
 */
export const MAX_REVIEW_BYTES = 7 * 1024 * 1024;

export interface HandlerResult {
  verdict: Verdict;
  summary: string;
}

export interface Handler {
  name: 'mutate' | 'validate';
  /** May wait for its dependencies (naming the stage in `progress`); the deadline bounds the wait. */
  run(req: AdmissionRequest, now: number, progress: ReviewProgress): HandlerResult | Promise<HandlerResult>;
}

export interface AppDeps {
  handlers: readonly Handler[];
  logger: Logger;
  metrics: WebhookMetrics;
  clock: () => number;
  ready: () => { ready: boolean; reason: string };
  maxBodyBytes?: number;
  /** From the request's arrival to its answer; past it the review is admitted unstamped (F2). */
  deadlineMs?: number;
}

/**
 * One string write, headers included: Node then sends headers and body in a single TLS record
 * instead of the two-buffer writev of res.json, which costs as much as the admission logic.
 */
function sendJson(res: Response, code: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function status(res: Response, code: number, message: string, details?: readonly string[]): void {
  sendJson(res, code, { apiVersion: 'v1', kind: 'Status', status: 'Failure', code, message, ...(details ? { details: { causes: details.map((d) => ({ message: d })) } } : {}) });
}

function outcomeOf(verdict: Verdict): Outcome {
  if (verdict.type === 'deny') return 'denied';
  if (verdict.type === 'patch' && verdict.ops.length > 0) return 'patched';
  return 'allowed';
}

const BODY_ERRORS: Record<string, (limit: number) => [number, string]> = {
  'entity.too.large': (limit) => [413, `request body is larger than ${String(limit)} bytes, the most an AdmissionReview of the largest object the apiserver accepts can be`],
  'encoding.unsupported': () => [415, 'request body has an unsupported content encoding; send identity, gzip or deflate'],
  'request.aborted': () => [400, 'the request body was not received completely'],
  'request.size.invalid': () => [400, 'the request body length does not match Content-Length'],
};

/** The answer when a handler cannot give one: admitted, unstamped, and so unknown downstream (F1, F2). */
function failOpen(handler: Handler, why: string): Verdict {
  return { type: 'allow', warnings: [`rollguard could not ${handler.name === 'mutate' ? 'stamp' : 'check'} this change (${why}); it is admitted and rollguard will treat it as unknown`] };
}

async function runHandler(handler: Handler, request: AdmissionRequest, deps: AppDeps, arrivedAt: number, where: Record<string, unknown>): Promise<{ verdict: Verdict; outcome: Outcome }> {
  const { logger } = deps;
  const progress = startProgress();
  const deadlineMs = deps.deadlineMs ?? DEFAULT_REVIEW_DEADLINE_MS;
  try {
    const work = Promise.resolve().then(() => handler.run(request, deps.clock(), progress));
    const result = await raceDeadline(work, deadlineMs - (performance.now() - arrivedAt), progress);
    if (result === EXPIRED) {
      deps.metrics.deadlineExceeded.inc({ webhook: handler.name, stage: progress.stage });
      logger.warn({ ...where, outcome: 'failed-open', stage: progress.stage, deadlineMs }, 'review deadline passed; admitted without stamps');
      return { verdict: failOpen(handler, `no answer within ${String(deadlineMs)} ms, waiting for ${progress.stage}`), outcome: 'failed-open' };
    }
    const { verdict, summary } = result;
    const outcome = outcomeOf(verdict);
    if (verdict.type === 'deny') logger.info({ ...where, outcome, summary }, 'denied');
    else if (verdict.warnings !== undefined && verdict.warnings.length > 0) logger.info({ ...where, outcome, summary, warnings: verdict.warnings }, 'admitted with warnings');
    else logger.debug({ ...where, outcome, summary }, 'admitted');
    return { verdict, outcome };
  } catch (err) {
    const e = err instanceof Error ? err : new Error('non-Error thrown');
    logger.error({ ...where, outcome: 'failed-open', error: e.message, stack: e.stack }, 'handler failed; admitted without stamps');
    return { verdict: failOpen(handler, 'internal error'), outcome: 'failed-open' };
  }
}

function reviewRoute(handler: Handler, deps: AppDeps): (req: Request, res: Response) => Promise<void> {
  const { logger, metrics } = deps;
  return async (req, res) => {
    const arrivedAt = (res.locals as { arrivedAt?: number }).arrivedAt ?? performance.now();
    const endTimer = metrics.duration.startTimer({ webhook: handler.name });
    const reject = (code: number, message: string, details?: readonly string[]): void => {
      metrics.requests.inc({ webhook: handler.name, kind: 'unknown', operation: 'unknown', outcome: 'rejected' });
      endTimer();
      logger.warn({ webhook: handler.name, code, error: message }, 'rejected a malformed admission request');
      status(res, code, message, details);
    };
    let body: unknown;
    try {
      // Node's JSON.parse messages quote part of the input, which may be a Secret: never echo them (F3).
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      reject(400, 'request body is empty or not valid JSON; expected an admission.k8s.io/v1 AdmissionReview');
      return;
    }
    const parsed = parseReview(body);
    if (!parsed.ok) {
      reject(400, 'request body is not an admission.k8s.io/v1 AdmissionReview with a request', parsed.errors);
      return;
    }
    const request = parsed.review.request;
    const labels = { webhook: handler.name, kind: request.kind.kind, operation: request.operation };
    const where = { webhook: handler.name, uid: request.uid, kind: request.kind.kind, operation: request.operation, namespace: request.namespace, name: request.name };
    const { verdict, outcome } = await runHandler(handler, request, deps, arrivedAt, where);
    metrics.requests.inc({ ...labels, outcome });
    endTimer();
    sendJson(res, 200, toReviewResponse(parsed.review, verdict));
  };
}

/** The deadline counts from here: before the body is read. */
function markArrival(_req: Request, res: Response, next: NextFunction): void {
  (res.locals as { arrivedAt?: number }).arrivedAt = performance.now();
  next();
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;

function requireJson(req: Request, res: Response, next: NextFunction): void {
  // Checked on the header itself: req.is() answers null for an empty body, whatever the type.
  if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
    status(res, 415, `Content-Type must be application/json (got ${req.headers['content-type'] ?? 'none'})`);
    return;
  }
  next();
}

export function createApp(deps: AppDeps): express.Express {
  const limit = deps.maxBodyBytes ?? MAX_REVIEW_BYTES;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const raw = express.raw({ type: () => true, limit });
  for (const handler of deps.handlers) {
    const path = `/${handler.name}`;
    app.post(path, markArrival, requireJson, raw, reviewRoute(handler, deps));
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
    const [code, message] = known ? known(limit) : [400, 'the request could not be read'];
    deps.metrics.requests.inc({ webhook: 'http', kind: 'unknown', operation: 'unknown', outcome: 'rejected' });
    deps.logger.warn({ code, error: message }, 'rejected a request');
    status(res, code, message);
  });
  return app;
}

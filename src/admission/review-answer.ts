import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { DEFAULT_REVIEW_DEADLINE_MS, EXPIRED, raceDeadline, startProgress, type ReviewProgress } from './deadline.js';
import type { Outcome, WebhookMetrics } from './metrics.js';
import { toReviewResponse, type Verdict } from './response.js';
import { parseReview, type AdmissionRequest } from './review.js';

// From a review's body to its answer: JSON, the AdmissionReview envelope, the handler under the
// deadline, the answer in one write, metrics and the log line. Malformed requests get a precise
// 4xx (a Kubernetes Status body); an exception inside a handler never becomes a bare 500: the
// webhook fails open (F2).

export interface HandlerResult {
  verdict: Verdict;
  summary: string;
}

export interface Handler {
  name: 'mutate' | 'validate';
  /** May wait for its dependencies (naming the stage in `progress`); the deadline bounds the wait. */
  run(req: AdmissionRequest, now: number, progress: ReviewProgress): HandlerResult | Promise<HandlerResult>;
  /** The answer without this handler's work (unstamped.ts); absent: a plain allow. */
  unstamped?(req: AdmissionRequest, why: string): Verdict;
}

export interface ReviewDeps {
  logger: Logger;
  metrics: WebhookMetrics;
  clock: () => number;
  /** From the request's arrival to its answer; past it the review is admitted unstamped (F2). */
  deadlineMs?: number;
  /** Under overload (overload.ts): true when this review's stamping is to be skipped. */
  shed?: () => boolean;
}

/**
 * One string write, headers included: Node then sends headers and body in a single TLS record
 * instead of the two-buffer writev of res.json, which costs as much as the admission logic.
 */
export function sendJson(res: ServerResponse, code: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function status(res: ServerResponse, code: number, message: string, details?: readonly string[]): void {
  sendJson(res, code, { apiVersion: 'v1', kind: 'Status', status: 'Failure', code, message, ...(details ? { details: { causes: details.map((d) => ({ message: d })) } } : {}) });
}

function outcomeOf(verdict: Verdict): Outcome {
  if (verdict.type === 'deny') return 'denied';
  if (verdict.type === 'patch' && verdict.ops.length > 0) return 'patched';
  return 'allowed';
}

/** The answer when a handler cannot give one: admitted, unstamped, and so unknown downstream (F1, F2). */
function failOpen(handler: Handler, request: AdmissionRequest, why: string): Verdict {
  try {
    if (handler.unstamped !== undefined) return handler.unstamped(request, why);
  } catch {
    // The plain allow below: still admitted, still unknown.
  }
  return { type: 'allow', warnings: [failOpenWarning(handler.name === 'mutate' ? 'stamp' : 'check', why)] };
}

/** What a change admitted without rollguard's work is told, on every fail-open path. */
export function failOpenWarning(action: 'stamp' | 'check', why: string): string {
  return `rollguard could not ${action} this change (${why}); it is admitted and rollguard will treat it as unknown`;
}

async function runHandler(handler: Handler, request: AdmissionRequest, deps: ReviewDeps, arrivedAt: number, where: Record<string, unknown>): Promise<{ verdict: Verdict; outcome: Outcome }> {
  const { logger } = deps;
  const progress = startProgress();
  const deadlineMs = deps.deadlineMs ?? DEFAULT_REVIEW_DEADLINE_MS;
  try {
    const work = Promise.resolve().then(() => handler.run(request, deps.clock(), progress));
    const result = await raceDeadline(work, deadlineMs - (performance.now() - arrivedAt), progress);
    if (result === EXPIRED) {
      deps.metrics.deadlineExceeded.inc({ webhook: handler.name, stage: progress.stage });
      logger.warn({ ...where, outcome: 'failed-open', stage: progress.stage, deadlineMs }, 'review deadline passed; admitted without stamps');
      return { verdict: failOpen(handler, request, `no answer within ${String(deadlineMs)} ms, waiting for ${progress.stage}`), outcome: 'failed-open' };
    }
    const { verdict, summary } = result;
    const outcome = outcomeOf(verdict);
    if (verdict.type === 'deny') logger.info({ ...where, outcome, summary }, 'denied');
    else if (verdict.warnings !== undefined && verdict.warnings.length > 0) logger.info({ ...where, outcome, summary, warnings: verdict.warnings }, 'admitted with warnings');
    else if (logger.isLevelEnabled('debug')) logger.debug({ ...where, outcome, summary }, 'admitted');
    return { verdict, outcome };
  } catch (err) {
    const e = err instanceof Error ? err : new Error('non-Error thrown');
    logger.error({ ...where, outcome: 'failed-open', error: e.message, stack: e.stack }, 'handler failed; admitted without stamps');
    return { verdict: failOpen(handler, request, 'internal error'), outcome: 'failed-open' };
  }
}

/** A review whose stamping is skipped while the webhook is overloaded; the shedder logs the episode, so each review only at debug. */
function shedReview(handler: Handler, request: AdmissionRequest, deps: ReviewDeps, where: Record<string, unknown>): { verdict: Verdict; outcome: Outcome } {
  deps.metrics.shed.inc({ webhook: handler.name, kind: request.kind.kind });
  if (deps.logger.isLevelEnabled('debug')) deps.logger.debug({ ...where, outcome: 'failed-open' }, 'overloaded: admitted without stamps');
  return { verdict: failOpen(handler, request, 'the webhook is overloaded'), outcome: 'failed-open' };
}

/** A body that is not an AdmissionReview: 400 with what is wrong, counted and logged. */
function rejectReview(handler: Handler, deps: ReviewDeps, endTimer: () => void, res: ServerResponse, message: string, details?: readonly string[]): void {
  deps.metrics.requests.inc({ webhook: handler.name, kind: 'unknown', operation: 'unknown', outcome: 'rejected' });
  endTimer();
  deps.logger.warn({ webhook: handler.name, code: 400, error: message }, 'rejected a malformed admission request');
  status(res, 400, message, details);
}

/** Answers one review from its body as received (undefined: no body was sent). */
export async function answerReview(handler: Handler, deps: ReviewDeps, raw: Buffer | undefined, arrivedAt: number, res: ServerResponse): Promise<void> {
  const { metrics } = deps;
  const endTimer = metrics.duration.startTimer({ webhook: handler.name });
  let body: unknown;
  try {
    // Node's JSON.parse messages quote part of the input, which may be a Secret: never echo them (F3).
    body = JSON.parse((raw ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    rejectReview(handler, deps, endTimer, res, 'request body is empty or not valid JSON; expected an admission.k8s.io/v1 AdmissionReview');
    return;
  }
  const parsed = parseReview(body);
  if (!parsed.ok) {
    rejectReview(handler, deps, endTimer, res, 'request body is not an admission.k8s.io/v1 AdmissionReview with a request', parsed.errors);
    return;
  }
  const request = parsed.review.request;
  const where = { webhook: handler.name, uid: request.uid, kind: request.kind.kind, operation: request.operation, namespace: request.namespace, name: request.name };
  const { verdict, outcome } = handler.unstamped !== undefined && deps.shed?.() === true ? shedReview(handler, request, deps, where) : await runHandler(handler, request, deps, arrivedAt, where);
  metrics.requests.inc({ webhook: handler.name, kind: request.kind.kind, operation: request.operation, outcome });
  endTimer();
  sendJson(res, 200, toReviewResponse(parsed.review, verdict));
}

/** A request refused before it could be read as a review (too large, unreadable, cut short): counted under webhook "http". */
export function rejectRequest(deps: Pick<ReviewDeps, 'logger' | 'metrics'>, res: ServerResponse, code: number, message: string): void {
  deps.metrics.requests.inc({ webhook: 'http', kind: 'unknown', operation: 'unknown', outcome: 'rejected' });
  deps.logger.warn({ code, error: message }, 'rejected a request');
  status(res, code, message);
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveHealthRoute } from '../health/routes.js';
import { lazyApp } from '../http/lazy-app.js';
import type { Handler, ReviewDeps } from './review-answer.js';
import { reviewFastPath } from './review-fast-path.js';

export type { Handler, HandlerResult } from './review-answer.js';

// The HTTP boundary, in one place: content type, body size, the admission routes, health and
// metrics, 404/405. Reviews in the shape the apiserver sends them take review-fast-path.ts, the
// probes and /metrics health/routes.ts; every other request goes to express-app.ts, loaded with the
// first such request (express costs an idle webhook about 8 MB of RSS).

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

export function createApp(deps: AppDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const limit = deps.maxBodyBytes ?? MAX_REVIEW_BYTES;
  const fast = reviewFastPath(deps.handlers, deps, limit);
  const app = lazyApp(async () => (await import('./express-app.js')).createExpressApp(deps, limit));
  return (req, res) => {
    if (fast(req, res) || serveHealthRoute(req, res, deps)) return;
    // The deadline counts from here: before the body is read (and before express is loaded).
    (res as ServerResponse & { locals?: { arrivedAt: number } }).locals = { arrivedAt: performance.now() };
    app(req, res);
  };
}

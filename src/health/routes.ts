import type { IncomingMessage, ServerResponse } from 'node:http';
import type express from 'express';
import { pathOf } from '../http/plain-body.js';

/** What the routes need of a prom-client Registry. */
export interface MetricsRegistry {
  contentType: string;
  metrics(): Promise<string>;
}

export interface HealthRouteDeps {
  metrics: { registry: MetricsRegistry };
  ready: () => { ready: boolean; reason: string };
}

type Answer = [status: number, contentType: string, body: string];

const TEXT = 'text/plain; charset=utf-8';

// /healthz (the process serves), /readyz (whatever `ready` says), /metrics; the webhook's and the
// agent's. Answered on node:http directly: the kubelet's probes and Prometheus' scrapes are most of
// what an idle process serves, and they load no framework.
const ROUTES: Readonly<Record<string, (deps: HealthRouteDeps) => Answer | Promise<Answer>>> = {
  '/healthz': () => [200, TEXT, 'ok\n'],
  '/readyz': (deps) => {
    const r = deps.ready();
    return [r.ready ? 200 : 503, TEXT, `${r.reason}\n`];
  },
  '/metrics': async (deps) => [200, deps.metrics.registry.contentType, await deps.metrics.registry.metrics()],
};

async function answer(res: ServerResponse, route: (deps: HealthRouteDeps) => Answer | Promise<Answer>, deps: HealthRouteDeps): Promise<void> {
  let status: number, type: string, body: string;
  try {
    [status, type, body] = await route(deps);
  } catch (err) {
    [status, type, body] = [500, TEXT, `internal error: ${err instanceof Error ? err.message : String(err)}\n`];
  }
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  // Node leaves the body out of an answer to HEAD.
  res.end(body);
}

/** Answers GET or HEAD of exactly /healthz, /readyz or /metrics (query aside); false for any other request. */
export function serveHealthRoute(req: IncomingMessage, res: ServerResponse, deps: HealthRouteDeps): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = pathOf(req);
  const route = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
  if (route === undefined) return false;
  void answer(res, route, deps);
  return true;
}

/** The same routes on an express app, for the paths express matches beyond the exact ones (a trailing slash, another case). */
export function addHealthRoutes(app: express.Express, deps: HealthRouteDeps): void {
  for (const [path, route] of Object.entries(ROUTES)) {
    app.get(path, (_req, res) => answer(res, route, deps));
  }
}

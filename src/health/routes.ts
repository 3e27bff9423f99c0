import type express from 'express';

/** What the routes need of a prom-client Registry. */
export interface MetricsRegistry {
  contentType: string;
  metrics(): Promise<string>;
}

export interface HealthRouteDeps {
  metrics: { registry: MetricsRegistry };
  ready: () => { ready: boolean; reason: string };
}

/** /healthz (the process serves), /readyz (whatever `ready` says), /metrics; the webhook's and the agent's. */
export function addHealthRoutes(app: express.Express, deps: HealthRouteDeps): void {
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    const r = deps.ready();
    res.status(r.ready ? 200 : 503).type('text/plain').send(`${r.reason}\n`);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}

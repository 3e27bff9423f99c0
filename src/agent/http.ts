import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Agent } from './agent.js';
import { AlertPayloadError } from './alertmanager.js';
import { decisionJson } from './decision-record.js';

// The agent's plain-HTTP endpoints, for the cluster network: probes, metrics, Alertmanager's
// webhook receiver and the decisions as JSON. Bad input gets a precise 4xx, never a crash (F5).

const MAX_ALERT_BYTES = 1024 * 1024;

function problem(res: Response, code: number, message: string): void {
  res.status(code).json({ error: message });
}

export function createAgentApp(agent: Agent, logger: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    const r = agent.readiness();
    res.status(r.ready ? 200 : 503).type('text/plain').send(`${r.reason}\n`);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(agent.metrics.registry.contentType).send(await agent.metrics.registry.metrics());
  });
  app.post('/alertmanager', express.json({ limit: MAX_ALERT_BYTES, type: () => true }), (req, res) => {
    try {
      res.json(agent.handleAlerts(req.body));
    } catch (err) {
      if (err instanceof AlertPayloadError) {
        agent.metrics.alerts.inc({ result: 'ignored' });
        problem(res, 400, err.message);
        return;
      }
      throw err;
    }
  });
  app.get('/decisions', (req, res) => {
    const namespace = typeof req.query.namespace === 'string' ? req.query.namespace : undefined;
    const openOnly = req.query.state === 'open';
    res.json({ leader: agent.lease.isLeader(), decisions: agent.decisions.list({ namespace, openOnly }).map(decisionJson) });
  });
  app.get('/decisions/:id', (req, res) => {
    const record = agent.decisions.get(req.params.id);
    if (record === undefined) {
      problem(res, 404, `no decision ${req.params.id} on this replica (${agent.lease.isLeader() ? 'the leader' : 'a standby: decisions are made by the Lease holder'})`);
      return;
    }
    res.json(decisionJson(record));
  });
  app.use((req, res) => {
    problem(res, 404, `no route ${req.method} ${req.path}; the agent serves GET /healthz, /readyz, /metrics, /decisions, /decisions/{id} and POST /alertmanager`);
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: unknown; status?: unknown; message?: unknown };
    if (e.type === 'entity.too.large') {
      problem(res, 413, `body larger than ${MAX_ALERT_BYTES} bytes`);
      return;
    }
    if (e.type === 'entity.parse.failed') {
      problem(res, 400, 'body is not valid JSON; expected an Alertmanager webhook payload');
      return;
    }
    logger.error({ error: typeof e.message === 'string' ? e.message : String(err) }, 'request failed');
    problem(res, 500, 'internal error; see the agent log');
  });
  return app;
}

export async function startAgentHttp(agent: Agent, logger: Logger, port: number, host = '0.0.0.0'): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer(createAgentApp(agent, logger));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

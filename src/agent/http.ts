import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { serveHealthRoute } from '../health/routes.js';
import { lazyApp } from '../http/lazy-app.js';
import { http } from '../http/node-http.js';
import type { Agent } from './agent.js';
import { AlertReceiver, alertmanagerRoute } from './alert-receiver.js';

/**
 * The agent's HTTP server. The probes, /metrics and Alertmanager's notifications are answered
 * here; the express app of http-app.ts (the decisions, Slack's actions) is loaded with the first
 * request that needs it. host undefined: every interface.
 */
export async function startAgentHttp(agent: Agent, logger: Logger, port: number, host?: string): Promise<{ port: number; close(): Promise<void> }> {
  const health = { metrics: agent.metrics, ready: () => agent.readiness() };
  const alerts = new AlertReceiver(agent, logger);
  const alertmanager = alertmanagerRoute(alerts, logger);
  const app = lazyApp(async () => (await import('./http-app.js')).createAgentApp(agent, logger, alerts));
  const server: Server = http.createServer((req, res) => {
    if (!serveHealthRoute(req, res, health) && !alertmanager(req, res)) app(req, res);
  });
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

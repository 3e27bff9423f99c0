import type { Server } from 'node:http';
import { http, https as nodeHttps } from '../http/node-http.js';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { addHealthRoutes, serveHealthRoute } from '../health/routes.js';
import { lazyApp } from '../http/lazy-app.js';
import { createApp, type Handler } from './app.js';
import { createMetrics, type WebhookMetrics } from './metrics.js';
import { mutate } from './mutate.js';
import { DEFAULT_SHED_ABOVE, startShedder, type ShedChange, type Shedder } from './overload.js';
import { unstampedVerdict } from './unstamped.js';
import { mutateInputs, policyObjectsInput, type MutateSources, type PolicyObjectsSource } from './review-inputs.js';
import { readTlsPair, watchTlsFiles } from './tls-files.js';
import { validate } from './validate.js';
import { policyKindOf } from './validate-policy.js';

// `rollguard webhook`: the admission endpoints over HTTPS, and health/metrics on a plain HTTP port
// for kubelet probes and Prometheus.

export interface WebhookServerOptions {
  /** Undefined: every interface. */
  host?: string | undefined;
  port: number;
  healthPort?: number | undefined;
  tlsCertFile: string;
  tlsKeyFile: string;
  /** How often the certificate files are checked for changes. */
  reloadIntervalMs?: number;
  mutate: MutateSources;
  /** The policy objects, when the webhook watches them: a namespace policy is validated over the cluster default in effect. */
  policies?: PolicyObjectsSource;
  logger: Logger;
  metrics?: WebhookMetrics;
  clock?: () => number;
  /** Extra readiness (e.g. the informer has synced). */
  ready?: () => { ready: boolean; reason: string };
  maxBodyBytes?: number;
  /** The internal deadline of a review (DEFAULT_REVIEW_DEADLINE_MS). */
  deadlineMs?: number;
  /** Event-loop utilization past which mutating reviews are shed (DEFAULT_SHED_ABOVE); 1 never sheds. */
  shedAbove?: number;
  /** false: the shedder samples no event-loop utilization itself; it is fed through WebhookServer.shedder (tests). */
  shedTimer?: boolean;
}

export interface WebhookServer {
  port: number;
  healthPort: number | undefined;
  metrics: WebhookMetrics;
  /** Undefined when shedding is off (shedAbove 1). */
  shedder: Shedder | undefined;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
    server.closeAllConnections();
  });
}

export function webhookHandlers(sources: MutateSources, policies?: PolicyObjectsSource): Handler[] {
  return [
    {
      name: 'mutate',
      run: async (req, now, progress) => mutate(req, await mutateInputs(req, sources, progress), now),
      unstamped: (req, why) => unstampedVerdict(req, sources, why),
    },
    {
      name: 'validate',
      // The blackout guard reads the request alone; only a policy object needs the others.
      run: async (req, now, progress) => validate(req, { ownNamespace: sources.ownNamespace, policies: await policyObjectsInput(policies, policyKindOf(req) !== undefined, progress) }, now),
    },
  ];
}

function onShedChange(change: ShedChange, metrics: WebhookMetrics, logger: Logger): void {
  metrics.shedShare.set(change.share);
  const utilization = Math.round(change.utilization * 100) / 100;
  if (change.previous === 0) logger.warn({ utilization, share: change.share }, 'overloaded: admitting a share of mutating reviews unstamped (unknown to the agent) to keep answering');
  else if (change.share === 0) logger.info({ utilization, shed: change.shedInEpisode }, 'no longer overloaded; every review is stamped again');
}

export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const host = opts.host;
  const metrics = opts.metrics ?? createMetrics();
  const logger = opts.logger;
  const ready = opts.ready ?? (() => ({ ready: true, reason: 'ready' }));
  const pair = await readTlsPair(opts.tlsCertFile, opts.tlsKeyFile);
  const shedAbove = opts.shedAbove ?? DEFAULT_SHED_ABOVE;
  const onChange = (change: ShedChange): void => {
    onShedChange(change, metrics, logger);
  };
  const shedder = shedAbove < 1 ? startShedder({ above: shedAbove, timer: opts.shedTimer !== false, onChange }) : undefined;
  const app = createApp({
    handlers: webhookHandlers(opts.mutate, opts.policies),
    logger,
    metrics,
    clock: opts.clock ?? Date.now,
    ready,
    ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}),
    ...(opts.deadlineMs !== undefined ? { deadlineMs: opts.deadlineMs } : {}),
    ...(shedder !== undefined ? { shed: () => shedder.shed() } : {}),
  });
  const https = nodeHttps.createServer({ ...pair, minVersion: 'TLSv1.2' }, app);
  // The apiserver keeps connections open between admissions; outlive its idle timeout.
  https.keepAliveTimeout = 65_000;
  const watcher = watchTlsFiles({
    certFile: opts.tlsCertFile,
    keyFile: opts.tlsKeyFile,
    intervalMs: opts.reloadIntervalMs ?? 2000,
    current: pair,
    onPair: (next) => {
      https.setSecureContext({ ...next, minVersion: 'TLSv1.2' });
      metrics.certReloads.inc({ result: 'loaded' });
      logger.info({ certFile: opts.tlsCertFile }, 'serving certificate reloaded');
    },
    onError: (err) => {
      metrics.certReloads.inc({ result: 'failed' });
      metrics.certReloadFailures.inc({ reason: err.reason });
      logger.warn({ certFile: opts.tlsCertFile, reason: err.reason, error: err.message }, 'certificate files changed but the new pair is refused; keeping the previous certificate');
    },
  });
  const port = await listen(https, opts.port, host);
  let health: Server | undefined;
  let healthPort: number | undefined;
  if (opts.healthPort !== undefined) {
    const deps = { metrics, ready };
    // Any other request (a 404) is express's, loaded then.
    const other = lazyApp(async () => {
      const healthApp = (await import('express')).default();
      healthApp.disable('x-powered-by');
      addHealthRoutes(healthApp, deps);
      return healthApp;
    });
    health = http.createServer((req, res) => {
      if (!serveHealthRoute(req, res, deps)) other(req, res);
    });
    healthPort = await listen(health, opts.healthPort, host);
  }
  logger.info({ host: host ?? 'every interface', port, healthPort }, 'rollguard webhook listening');
  return {
    port,
    healthPort,
    metrics,
    shedder,
    async close() {
      watcher.stop();
      shedder?.stop();
      await Promise.all([close(https), health ? close(health) : Promise.resolve()]);
    },
  };
}

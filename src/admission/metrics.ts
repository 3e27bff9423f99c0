import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Prometheus metrics of one webhook server, on its own registry (no global state, so tests and
// benchmarks can run several servers in one process).

export type Outcome = 'allowed' | 'patched' | 'denied' | 'failed-open' | 'rejected';

export interface WebhookMetrics {
  registry: Registry;
  requests: Counter<'webhook' | 'kind' | 'operation' | 'outcome'>;
  duration: Histogram<'webhook'>;
  certReloads: Counter<'result'>;
  certReloadFailures: Counter<'reason'>;
  deadlineExceeded: Counter<'webhook' | 'stage'>;
  shed: Counter<'webhook' | 'kind'>;
  shedShare: Gauge;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): WebhookMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'rollguard_webhook_' });
  return {
    registry,
    requests: new Counter({
      name: 'rollguard_admission_requests_total',
      help: 'Admission requests by webhook, object kind, operation and outcome (rejected = a 4xx for a malformed request).',
      labelNames: ['webhook', 'kind', 'operation', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'rollguard_admission_duration_seconds',
      help: 'Time from request to response inside the webhook, by webhook.',
      labelNames: ['webhook'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    certReloads: new Counter({
      name: 'rollguard_webhook_certificate_reloads_total',
      help: 'Serving certificate reloads after the files changed, by result.',
      labelNames: ['result'],
      registers: [registry],
    }),
    certReloadFailures: new Counter({
      name: 'rollguard_webhook_certificate_reload_failures_total',
      help: 'Changed certificate files refused (the previous pair keeps serving), by reason: unreadable, malformed (empty or truncated), mismatched (key not the certificate\'s), expired, not-yet-valid.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    deadlineExceeded: new Counter({
      name: 'rollguard_webhook_deadline_exceeded_total',
      help: 'Reviews answered allowed and unstamped because the internal deadline passed, by webhook and the stage they were waiting in.',
      labelNames: ['webhook', 'stage'],
      registers: [registry],
    }),
    shed: new Counter({
      name: 'rollguard_webhook_shed_total',
      help: 'Mutating reviews answered allowed and unstamped because the webhook was overloaded (its event loop busy past --shed-above), by webhook and object kind.',
      labelNames: ['webhook', 'kind'],
      registers: [registry],
    }),
    shedShare: new Gauge({
      name: 'rollguard_webhook_shed_share',
      help: 'The share of mutating reviews the webhook currently admits unstamped to keep up (0 when not overloaded).',
      registers: [registry],
    }),
  };
}

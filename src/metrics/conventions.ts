import type { MetricsPreset, Policy } from '../core/policy.js';

// Metric naming conventions: which counters hold requests and latency, and which labels name the
// service, the namespace, the status code and the serving pod. The default follows the Prometheus client-library
// convention; presets cover Istio and ingress-nginx, and the policy may set each label
// (`metrics.serviceLabel`, `.namespaceLabel`, `.statusLabel`, `.podLabel`). Policies may replace the three queries
// with PromQL (Prometheus only); `$service` and `$namespace` are substituted, quoted for PromQL.

export interface MetricConvention {
  /** Request counter sample name (one series per status code). */
  requests: string;
  /** Latency histogram bucket counter sample name (series carry `le`). */
  latencyBuckets: string;
  serviceLabel: string;
  namespaceLabel: string;
  statusLabel: string;
  /** The label naming the pod that served the requests ('' when the convention has none). */
  podLabel: string;
  /** Further label equalities every series must have (e.g. Istio's reporter="destination"). */
  extraMatchers: Readonly<Record<string, string>>;
  /** Seconds per unit of `le`: 1 for *_seconds histograms, 0.001 for *_milliseconds. */
  leUnitSeconds: number;
}

export const PRESETS: Readonly<Record<MetricsPreset, MetricConvention>> = {
  default: {
    requests: 'http_requests_total',
    latencyBuckets: 'http_request_duration_seconds_bucket',
    serviceLabel: 'service',
    namespaceLabel: 'namespace',
    statusLabel: 'code',
    // What Prometheus' Kubernetes pod discovery relabels __meta_kubernetes_pod_name to.
    podLabel: 'pod',
    extraMatchers: {},
    leUnitSeconds: 1,
  },
  istio: {
    requests: 'istio_requests_total',
    latencyBuckets: 'istio_request_duration_milliseconds_bucket',
    serviceLabel: 'destination_service_name',
    namespaceLabel: 'destination_service_namespace',
    statusLabel: 'response_code',
    // The destination sidecar's pod, as the Istio scrape config relabels it.
    podLabel: 'pod',
    // Each request is reported by both sidecars; the server side sees what the service answered.
    extraMatchers: { reporter: 'destination' },
    leUnitSeconds: 0.001,
  },
  'ingress-nginx': {
    requests: 'nginx_ingress_controller_requests',
    latencyBuckets: 'nginx_ingress_controller_request_duration_seconds_bucket',
    serviceLabel: 'service',
    namespaceLabel: 'namespace',
    statusLabel: 'status',
    // The controller's own pod, not the upstream's: the split needs the serving pod, which it lacks.
    podLabel: '',
    extraMatchers: {},
    leUnitSeconds: 1,
  },
};

/** A 5xx status code, as the `statusLabel` value. */
export const SERVER_ERROR = /^5\d\d$/;

/** Quotes a string as a PromQL string literal. */
export function promString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export interface Queries {
  requests: string;
  errors: string;
  latencyBucket: string;
}

function selector(name: string, matchers: readonly string[]): string {
  return `${name}{${matchers.join(',')}}`;
}

/** The policy's convention: its preset, with the policy's metric label settings over the preset's. */
export function conventionFor(metrics: Policy['metrics']): MetricConvention {
  const preset = PRESETS[metrics.preset];
  return {
    ...preset,
    serviceLabel: metrics.serviceLabel ?? preset.serviceLabel,
    namespaceLabel: metrics.namespaceLabel ?? preset.namespaceLabel,
    statusLabel: metrics.statusLabel ?? preset.statusLabel,
    podLabel: metrics.podLabel ?? preset.podLabel,
  };
}

/**
 * The PromQL selectors of a service under a convention. Without a namespace (or with an empty
 * namespace label: metrics that carry none) the service label alone selects the series.
 */
export function presetQueries(c: MetricConvention, namespace: string | undefined, service: string): Queries {
  const base = [
    ...(namespace !== undefined && c.namespaceLabel !== '' ? [`${c.namespaceLabel}=${promString(namespace)}`] : []),
    `${c.serviceLabel}=${promString(service)}`,
    ...Object.entries(c.extraMatchers).map(([k, v]) => `${k}=${promString(v)}`),
  ];
  return {
    requests: selector(c.requests, base),
    errors: selector(c.requests, [...base, `${c.statusLabel}=~"5.."`]),
    latencyBucket: selector(c.latencyBuckets, base),
  };
}

/**
 * The queries a policy asks for: the convention's selectors (`namespace` undefined: on the service
 * label alone), each replaced by the policy's PromQL when given. Every query must return cumulative
 * counters (not rates): rollguard computes the increases itself, so counter resets and new pods are
 * handled the same way for every source.
 */
export function queriesFor(metrics: Policy['metrics'], namespace: string | undefined, service: string): Queries {
  const preset = presetQueries(conventionFor(metrics), namespace, service);
  const quoted = (v: string) => promString(v).slice(1, -1);
  const fill = (q: string | undefined, fallback: string) =>
    q === undefined ? fallback : q.replaceAll('$namespace', quoted(namespace ?? '')).replaceAll('$service', quoted(service));
  return {
    requests: fill(metrics.queries.requests, preset.requests),
    errors: fill(metrics.queries.errors, preset.errors),
    latencyBucket: fill(metrics.queries.latencyBucket, preset.latencyBucket),
  };
}

/** Parses an `le` label value ("0.25", "+Inf") into seconds; undefined when it is not a number. */
export function parseLe(value: string | undefined, unitSeconds: number): number | undefined {
  if (value === undefined) return undefined;
  if (value === '+Inf' || value === 'Inf') return Infinity;
  const n = Number(value);
  return Number.isFinite(n) ? n * unitSeconds : undefined;
}

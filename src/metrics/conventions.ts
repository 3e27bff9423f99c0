import type { MetricsPreset, Policy } from '../core/policy.js';

// Metric naming conventions: which counters hold requests and latency, which labels name the
// service, the namespace, the status and the serving pod, and which statuses are server errors. The
// default follows the Prometheus client-library convention; presets cover Istio, ingress-nginx,
// OpenTelemetry's HTTP semantic conventions through the Collector, Linkerd's proxy and gRPC servers,
// and the policy may set each label (`metrics.serviceLabel`, `.namespaceLabel`, `.statusLabel`,
// `.podLabel`). Policies may replace the three queries with PromQL (Prometheus only); `$service` and
// `$namespace` are substituted, quoted for PromQL. docs/metrics.md#presets shows each preset's exposition.

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
  /**
   * The `statusLabel` values that are server errors, as a PromQL regular expression (matched whole,
   * RE2 syntax in the subset JavaScript shares), so Prometheus and the file source count the same.
   */
  serverErrors: string;
  /** The same in words, for the evidence and the docs. */
  serverErrorsText: string;
}

const HTTP_5XX = { serverErrors: '5..', serverErrorsText: '5xx' } as const;

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
    ...HTTP_5XX,
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
    ...HTTP_5XX,
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
    ...HTTP_5XX,
  },
  // http.server.request.duration (unit s) through the Collector's Prometheus exporter: the unit
  // suffix, dots to underscores, and the resource attributes as labels (resource_to_telemetry_conversion).
  opentelemetry: {
    requests: 'http_server_request_duration_seconds_count',
    latencyBuckets: 'http_server_request_duration_seconds_bucket',
    serviceLabel: 'service_name',
    namespaceLabel: 'k8s_namespace_name',
    statusLabel: 'http_response_status_code',
    // The Collector's k8sattributes processor, as a label through resource_to_telemetry_conversion.
    podLabel: 'k8s_pod_name',
    extraMatchers: {},
    leUnitSeconds: 1,
    ...HTTP_5XX,
  },
  // The proxy counts both directions; inbound is what the meshed workload answered. The scrape
  // (linkerd-viz) adds namespace, deployment and pod.
  linkerd: {
    requests: 'response_total',
    latencyBuckets: 'response_latency_ms_bucket',
    serviceLabel: 'deployment',
    namespaceLabel: 'namespace',
    statusLabel: 'status_code',
    podLabel: 'pod',
    extraMatchers: { direction: 'inbound' },
    leUnitSeconds: 0.001,
    ...HTTP_5XX,
  },
  // go-grpc-prometheus / go-grpc-middleware: grpc_service is the protobuf service, not the
  // workload; the scrape's target labels (a ServiceMonitor's service, namespace, pod) name that.
  grpc: {
    requests: 'grpc_server_handled_total',
    latencyBuckets: 'grpc_server_handling_seconds_bucket',
    serviceLabel: 'service',
    namespaceLabel: 'namespace',
    statusLabel: 'grpc_code',
    podLabel: 'pod',
    extraMatchers: {},
    leUnitSeconds: 1,
    // The codes that say the server failed; the others (NotFound, InvalidArgument, Canceled, ...)
    // are the client's doing or an answer, as a 4xx is.
    serverErrors: 'Unknown|Internal|Unavailable|DataLoss|DeadlineExceeded',
    serverErrorsText: 'gRPC code Unknown, Internal, Unavailable, DataLoss or DeadlineExceeded',
  },
};

/** The file source's reading of `serverErrors`: the whole value must match, as PromQL's =~ does. */
export function serverErrorMatcher(c: MetricConvention): RegExp {
  return new RegExp(`^(?:${c.serverErrors})$`);
}

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
    errors: selector(c.requests, [...base, `${c.statusLabel}=~${promString(c.serverErrors)}`]),
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

import type { MetricHoldings, SeriesMatch } from '../core/metric-match.js';
import type { Policy } from '../core/policy.js';
import { seriesByPod, type RawServiceSeries } from '../core/regression-series.js';
import { conventionFor, PRESETS, promString, queriesFor } from './conventions.js';
import type { MetricConvention } from './conventions.js';
import type { RangeQuery } from './source.js';

// The match rules both sources follow, over what each can read: the selector with every label
// first; when it matches nothing, what the source holds for the metric; when the metric carries no
// namespace label at all, the service label alone (said so in the evidence). Extra reads happen only
// when the selector matched nothing, so the normal path costs one query per signal.

export type ServiceSeries = Omit<RawServiceSeries, 'match'>;

export interface MatchReader {
  /** The source as the evidence names it: "the file", "Prometheus". */
  name: string;
  /** The service's series, selected with the namespace label (namespace given) or without it. */
  read(namespace: string | undefined): Promise<ServiceSeries>;
  /** What the source holds for a metric name over the queried span. */
  holdings(metric: string): Promise<MetricHoldings>;
}

/** The metric name a PromQL selector starts with, if it does (`name{...}` or `name`). */
export function selectorMetric(query: string): string | undefined {
  return /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{|\[|$)/.exec(query)?.[1];
}

/** The requests counters of the other presets: a file with one of them likely needs that preset. */
export function presetCounters(): string[] {
  return Object.values(PRESETS).map((p) => p.requests);
}

/** Labels that never name a service (the presets' request attributes among them). */
const NOT_A_SERVICE = new Set([
  '__name__', 'le', 'instance', 'job', 'method', 'path', 'handler', 'route', 'pod', 'container', 'endpoint',
  'http_request_method', 'http_route', 'url_scheme', 'network_protocol_version', 'server_address', 'server_port',
  'direction', 'classification', 'tls', 'authority', 'target_addr', 'grpc_service', 'grpc_method', 'grpc_type',
]);

/** How to fix a selector that matched nothing, from what the source holds. */
function hintFor(c: MetricConvention, metrics: Policy['metrics'], holds: MetricHoldings, q: { namespace: string; service: string }): string {
  if (metrics.queries.requests !== undefined) return 'check metrics.queries.requests against the series the source holds';
  const labels = holds.labels;
  if (labels === undefined) {
    const preset = Object.entries(PRESETS).find(([, p]) => p.requests !== c.requests && holds.nearest?.includes(p.requests));
    return preset !== undefined ? `set metrics.preset: ${preset[0]}` : 'set the metrics.preset your metrics follow, or point metrics.queries at the request counter';
  }
  const extra = Object.keys(c.extraMatchers).filter((l) => !labels.includes(l));
  if (extra.length > 0) return `the ${metrics.preset} preset needs a ${extra.join(', ')} label: set the metrics.preset your metrics follow`;
  if (!labels.includes(c.serviceLabel)) {
    const candidates = labels.filter((l) => l !== c.namespaceLabel && l !== c.statusLabel && !(l in c.extraMatchers) && !NOT_A_SERVICE.has(l));
    const which = candidates.length === 1 ? `: ${candidates[0] ?? ''}` : candidates.length > 1 ? ` to the one of ${candidates.join(', ')} that names it` : '';
    return `no ${c.serviceLabel} label: set metrics.serviceLabel${which} (the metric label naming the service), or use metrics.queries`;
  }
  const where = c.namespaceLabel !== '' && labels.includes(c.namespaceLabel) ? `${c.namespaceLabel}=${promString(q.namespace)},` : '';
  return `no series has ${where}${c.serviceLabel}=${promString(q.service)}: check the service name (the Deployment label the top-level serviceLabel names), metrics.namespaceLabel, or use metrics.queries`;
}

/** The series with their per-pod grouping, when they carry the convention's pod label. */
function withPods(series: ServiceSeries, podLabel: string): ServiceSeries {
  const pods = seriesByPod(series.requests, series.errors, podLabel);
  return pods === undefined ? series : { ...series, pods };
}

/** The service's series and how they matched (see the file comment), grouped by pod where they can be. */
export async function matchedSeries(metrics: Policy['metrics'], q: RangeQuery, reader: MatchReader): Promise<RawServiceSeries> {
  const found = await matchedSeriesOnly(metrics, q, reader);
  return { ...withPods(found, conventionFor(metrics).podLabel), ...(found.match ? { match: found.match } : {}) };
}

async function matchedSeriesOnly(metrics: Policy['metrics'], q: RangeQuery, reader: MatchReader): Promise<RawServiceSeries> {
  const c = conventionFor(metrics);
  const custom = metrics.queries.requests !== undefined;
  const policyHasNoNamespace = c.namespaceLabel === '';
  const metric = custom ? selectorMetric(metrics.queries.requests ?? '') : c.requests;
  const match = (kind: SeriesMatch['kind'], namespace: string | undefined, extra: Partial<SeriesMatch> = {}): SeriesMatch => ({
    kind,
    selector: queriesFor(metrics, namespace, q.service).requests,
    source: reader.name,
    metric,
    namespaceLabel: c.namespaceLabel,
    ...extra,
  });
  const namespace = policyHasNoNamespace ? undefined : q.namespace;
  const first = await reader.read(namespace);
  if (first.requests.length > 0) return { ...first, match: match(policyHasNoNamespace && !custom ? 'service-only' : 'exact', namespace) };
  if (metric === undefined) return { ...first, match: match('none', namespace, { hint: 'check metrics.queries.requests against the series the source holds' }) };
  const holds = await reader.holdings(metric);
  const noNamespaceLabel = holds.labels !== undefined && !holds.labels.includes(c.namespaceLabel) && holds.labels.includes(c.serviceLabel);
  if (!custom && !policyHasNoNamespace && noNamespaceLabel) {
    const second = await reader.read(undefined);
    if (second.requests.length > 0) return { ...second, match: match('service-only', undefined) };
  }
  return { ...first, match: match('none', namespace, { holds, hint: hintFor(c, metrics, holds, q) }) };
}

/**
 * The services of a namespace, by the same rule: when the namespace matches none and the requests
 * metric has no namespace label (or the policy says so), every service the metric names.
 */
export async function matchedServices(
  metrics: Policy['metrics'],
  namespace: string,
  list: (namespace: string | undefined) => Promise<string[]>,
  holdings: (metric: string) => Promise<MetricHoldings>,
): Promise<string[]> {
  const c = conventionFor(metrics);
  if (c.namespaceLabel === '') return list(undefined);
  const found = await list(namespace);
  if (found.length > 0) return found;
  const labels = (await holdings(c.requests)).labels;
  return labels !== undefined && !labels.includes(c.namespaceLabel) && labels.includes(c.serviceLabel) ? list(undefined) : found;
}

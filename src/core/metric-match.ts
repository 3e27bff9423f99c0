import type { Deployment } from './kube.js';
import type { Policy } from './policy.js';
import type { Regression } from './regression-types.js';
import { serviceOf } from './service.js';

// How a source's selector matched a service's series (R5 evidence): exactly, on the service label
// alone, or not at all, and then what the source does hold for the metric. Sources fill it in; the
// detector carries it into the `Regression`, so "no data" can say which selector matched nothing
// instead of reading as "no regression".

/** What a source holds for a metric name over the queried span. */
export interface MetricHoldings {
  /** Label names of the metric's series, sorted; undefined when the source has no such metric. */
  labels: string[] | undefined;
  /** When the metric is absent: the source's metric names nearest to it. */
  nearest?: string[];
}

export interface SeriesMatch {
  /** `exact`: every label matched; `service-only`: matched without the namespace label; `none`: nothing matched. */
  kind: 'exact' | 'service-only' | 'none';
  /** The requests selector that matched (or, for `none`, the one that matched nothing). */
  selector: string;
  /** The source as the evidence names it: "the file", "Prometheus". */
  source: string;
  /** The requests metric name; undefined for a PromQL override whose name cannot be read. */
  metric: string | undefined;
  /** The metric label naming the namespace (empty: the policy says there is none). */
  namespaceLabel: string;
  /** For `none`: what the source holds for the metric. */
  holds?: MetricHoldings;
  /** For `none`: how to fix the policy, from the source's knowledge of the conventions. */
  hint?: string;
  /**
   * For `service-only`, set by whoever knows the deploys: every namespace where a Deployment of
   * this service name is deployed. Two or more make the series ambiguous (F1).
   */
  deployedIn?: string[];
}

function holdsText(m: SeriesMatch): string | undefined {
  if (m.metric === undefined || m.holds === undefined) return undefined;
  const { labels, nearest } = m.holds;
  if (labels === undefined) return `${m.source} has no ${m.metric}${nearest !== undefined && nearest.length > 0 ? ` (nearest: ${nearest.join(', ')})` : ''}`;
  return `${m.source} has ${m.metric} with ${labels.length > 0 ? `labels ${labels.join(', ')}` : 'no labels'}`;
}

/** How every no-match evidence begins, so a one-line reason can tell it from "no regression". */
export const NO_MATCH = 'no series matched';

/** `no series matched SELECTOR; the file has METRIC with labels …; HINT`. */
export function noMatchEvidence(m: SeriesMatch): string {
  return [`${NO_MATCH} ${m.selector}`, holdsText(m), m.hint].filter((s) => s !== undefined && s !== '').join('; ');
}

/** Why the namespace label was left out of the selector. */
export function serviceOnlyNote(m: SeriesMatch): string {
  const why = m.namespaceLabel === '' ? "the policy's metrics.namespaceLabel is empty (no namespace label)" : `${m.metric ?? 'the requests metric'} has no ${m.namespaceLabel} label`;
  return `matched on service only: ${why}`;
}

/** True when a service-only match cannot tell the namespaces apart (F1). */
export function isAmbiguous(m: SeriesMatch | undefined): boolean {
  return m?.kind === 'service-only' && (m.deployedIn?.length ?? 0) >= 2;
}

export function ambiguityEvidence(m: SeriesMatch, service: string): string {
  return `${serviceOnlyNote(m)}, but a service ${service} is deployed in namespaces ${(m.deployedIn ?? []).join(', ')}: ${m.selector} cannot tell them apart; set metrics.namespaceLabel or metrics.queries to a selector that can`;
}

/**
 * F1: series matched on the service label alone belong to every namespace deploying that service
 * name. Records those namespaces (`deployments`, read only for such a match, with their namespaces, each named by its namespace's
 * policy) on a service-only match; two or more make the clean signal unknown.
 */
export function withDeployedIn(regression: Regression, deployments: () => readonly Deployment[], policyFor: (namespace: string) => Pick<Policy, 'serviceLabel'>): Regression {
  const m = regression.match;
  if (m?.kind !== 'service-only') return regression;
  const namespaces = new Set([regression.namespace]);
  for (const d of deployments()) {
    const namespace = d.metadata?.namespace;
    if (namespace !== undefined && serviceOf(d, policyFor(namespace)) === regression.service) namespaces.add(namespace);
  }
  return { ...regression, match: { ...m, deployedIn: [...namespaces].sort() } };
}

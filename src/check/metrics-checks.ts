import { noMatchEvidence, serviceOnlyNote } from '../core/metric-match.js';
import { DEFAULT_POLICY, type Policy } from '../core/policy.js';
import { serviceOf } from '../core/service.js';
import type { Deployment } from '../core/kube.js';
import { PrometheusSource } from '../metrics/prometheus.js';
import { fail, guarded, pass, skip, type CheckResult } from './result.js';

// The metrics checks of `rollguard check`: Prometheus answers at the URL the agent is given, and
// the policy's selectors find the named Deployment's request series there.

const LOOKBACK_MS = 30 * 60_000;

export function checkPrometheus(url: string | undefined, bearerToken: string | undefined): Promise<CheckResult> {
  const name = 'Prometheus answers';
  if (url === undefined) return Promise.resolve(skip(name, 'no --prometheus URL given', 'pass --prometheus with the URL the agent is given (its --prometheus flag, the chart value agent.prometheus.url), from a place that reaches it (e.g. through kubectl port-forward)'));
  const fix = 'give the agent the Prometheus server URL, with its path prefix if it has one (e.g. http://prometheus-operated.monitoring:9090), and its credentials (PROMETHEUS_BEARER_TOKEN)';
  return guarded(name, fix, async () => {
    await new PrometheusSource({ url, metrics: DEFAULT_POLICY.metrics, timeoutMs: 5000, ...(bearerToken === undefined ? {} : { bearerToken }) }).probe();
    return pass(name, `at ${url}`);
  });
}

/** The Deployment's request series over the last 30 minutes, through the policy that governs it. */
export function checkDeploymentSeries(url: string | undefined, bearerToken: string | undefined, target: { deployment: Deployment; policy: Policy; policyFrom: string }, now: number): Promise<CheckResult> {
  const { deployment, policy, policyFrom } = target;
  const namespace = deployment.metadata?.namespace ?? '';
  const service = serviceOf(deployment, policy);
  const name = `metric selectors match ${namespace}/${deployment.metadata?.name ?? ''}`;
  if (url === undefined) return Promise.resolve(skip(name, 'no --prometheus URL given', 'pass --prometheus'));
  const fix = `set the policy's metrics section (${policyFrom}) to the labels the service's metrics carry: metrics.preset, metrics.serviceLabel, metrics.namespaceLabel, or the Deployment's ${policy.serviceLabel} label`;
  return guarded(name, fix, async () => {
    const source = new PrometheusSource({ url, metrics: policy.metrics, timeoutMs: 10_000, ...(bearerToken === undefined ? {} : { bearerToken }) });
    const step = policy.metrics.stepMs ?? 30_000;
    const end = Math.floor(now / step) * step;
    const series = await source.rangeQuery({ namespace, service, start: end - LOOKBACK_MS, end, stepMs: step });
    const match = series.match;
    if (match?.kind === 'none') return fail(name, noMatchEvidence(match), fix);
    const samples = series.requests.reduce((n, s) => n + s.samples.length, 0);
    if (samples === 0) return fail(name, `no request samples for service ${service} in namespace ${namespace} in the last 30 minutes`, `${fix}; or the service had no traffic`);
    const how = match === undefined ? '' : match.kind === 'service-only' ? ` (${serviceOnlyNote(match)})` : ` with ${match.selector}`;
    return pass(name, `service ${service}: ${String(series.requests.length)} request series, ${String(series.errors.length)} 5xx series, ${series.latency.length > 0 ? 'a latency histogram' : 'no latency histogram'}${how}; policy from ${policyFrom}`);
  });
}

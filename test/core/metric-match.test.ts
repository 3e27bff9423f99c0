import { describe, expect, it } from 'vitest';
import { judgeCleanSignal } from '../../src/core/conditions/clean-signal.js';
import { withDeployedIn, type SeriesMatch } from '../../src/core/metric-match.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { detectRegression } from '../../src/core/regression.js';
import type { Regression } from '../../src/core/regression-types.js';

// R5 F1 in the pure core: the match a source reports is carried into the Regression, and the
// clean-signal condition names it: what matched nothing, a service-only match, an ambiguous one.

const none: SeriesMatch = {
  kind: 'none',
  selector: 'http_requests_total{namespace="shop",service="checkout"}',
  source: 'the file',
  metric: 'http_requests_total',
  namespaceLabel: 'namespace',
  holds: { labels: ['code', 'service'] },
  hint: 'no series has service="checkout": check the service name',
};
const serviceOnly: SeriesMatch = { kind: 'service-only', selector: 'http_requests_total{service="checkout"}', source: 'the file', metric: 'http_requests_total', namespaceLabel: 'namespace' };

const regressed: Regression = {
  service: 'checkout',
  namespace: 'shop',
  signal: 'error-rate',
  data: 'ok',
  onset: 1,
  errorRate: { baseline: 0.003, current: 0.09, baselineRequests: 10_000, currentRequests: 5_000, pValue: 1e-12, persisted: 3 },
};

describe('R5 F1 the clean signal names how the metrics matched', () => {
  it('R5: a selector that matched nothing is unknown and says which selector and what the source holds', () => {
    const c = judgeCleanSignal({ service: 'checkout', namespace: 'shop', signal: undefined, data: 'no-data', onset: undefined, match: none }, DEFAULT_POLICY);
    expect(c).toEqual({
      status: 'unknown',
      evidence:
        'no series matched http_requests_total{namespace="shop",service="checkout"}; the file has http_requests_total with labels code, service; no series has service="checkout": check the service name: not a regression, and not a clean signal',
    });
  });

  it('R5: an absent metric names the nearest ones', () => {
    const absent: SeriesMatch = { ...none, holds: { labels: undefined, nearest: ['istio_requests_total'] }, hint: 'set metrics.preset: istio' };
    expect(judgeCleanSignal({ ...regressed, signal: undefined, data: 'no-data', match: absent }, DEFAULT_POLICY).evidence).toMatch(
      /^no series matched .*; the file has no http_requests_total \(nearest: istio_requests_total\); set metrics\.preset: istio: /,
    );
  });

  it('R5: a service-only match keeps the verdict of the counts and says how it matched', () => {
    const c = judgeCleanSignal({ ...regressed, match: { ...serviceOnly, deployedIn: ['shop'] } }, DEFAULT_POLICY);
    expect(c.status).toBe('met');
    expect(c.evidence).toMatch(/\(matched on service only: http_requests_total has no namespace label\)$/);
  });

  it('F1: a service-only match of a service deployed in two namespaces is unknown, even with a clear regression', () => {
    const c = judgeCleanSignal({ ...regressed, match: { ...serviceOnly, deployedIn: ['pay', 'shop'] } }, DEFAULT_POLICY);
    expect(c.status).toBe('unknown');
    expect(c.evidence).toMatch(/but a service checkout is deployed in namespaces pay, shop: http_requests_total\{service="checkout"\} cannot tell them apart/);
  });

  it('R5: the detector carries a non-exact match into the Regression, and leaves an exact one out', () => {
    const series = { namespace: 'shop', service: 'checkout', requests: [], errors: [], latency: [] };
    const at = { deployStart: 3_600_000, now: 4_000_000, policy: DEFAULT_POLICY };
    expect(detectRegression({ series: { ...series, match: none }, ...at }).match).toEqual(none);
    expect(detectRegression({ series: { ...series, match: { ...none, kind: 'exact' } }, ...at })).not.toHaveProperty('match');
  });

  it('F1: withDeployedIn records every namespace deploying the service name (by each namespace\'s serviceLabel), only for a service-only match', () => {
    const deployment = (namespace: string, name: string, labels: Record<string, string> = {}) => ({ metadata: { namespace, name, labels } });
    const deployments = [deployment('shop', 'checkout'), deployment('pay', 'checkout-v2', { app: 'checkout' }), deployment('eu', 'checkout-eu', { 'app.kubernetes.io/name': 'checkout' }), deployment('misc', 'cart')];
    const policyFor = (namespace: string) => ({ serviceLabel: namespace === 'pay' ? 'app' : 'app.kubernetes.io/name' });
    const r = withDeployedIn({ ...regressed, match: serviceOnly }, () => deployments, policyFor);
    expect(r.match?.deployedIn).toEqual(['eu', 'pay', 'shop']);
    expect(judgeCleanSignal(r, DEFAULT_POLICY).status).toBe('unknown');
    let read = false;
    const exact = withDeployedIn({ ...regressed, match: none }, () => ((read = true), deployments), policyFor);
    expect(exact.match?.deployedIn).toBeUndefined();
    expect(read).toBe(false);
    expect(withDeployedIn({ ...regressed, match: serviceOnly }, () => [deployment('misc', 'cart')], policyFor).match?.deployedIn).toEqual(['shop']);
  });
});

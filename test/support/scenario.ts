import type { DecisionInput } from '../../src/core/decision-types.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import type { ErrorRateEvidence, Regression } from '../../src/core/regression-types.js';
import { deployment, min, T0, withConfig } from './builders.js';

// A clean incident that must be `auto`: every test changes one thing and checks what follows.

export function errorRegression(overrides: Partial<Regression> = {}): Regression {
  return {
    service: 'checkout',
    namespace: 'shop',
    signal: 'error-rate',
    data: 'ok',
    onset: min(3),
    onsetUncertaintyMs: 0,
    errorRate: { baseline: 0.004, current: 0.08, baselineRequests: 60_000, currentRequests: 5_000, pValue: 1e-20, persisted: 3 },
    ...overrides,
  };
}

/** The clean error-rate regression with some of its counts changed. */
export function errorRegressionWith(rate: Partial<ErrorRateEvidence>): Regression {
  const base = errorRegression();
  return { ...base, errorRate: { ...(base.errorRate as ErrorRateEvidence), ...rate } };
}

export function cleanInput(overrides: Partial<DecisionInput> = {}): DecisionInput {
  const before = deployment({ image: 'checkout:1.4.0', pod: withConfig('app-config', 'db') });
  const after = deployment({ image: 'checkout:1.5.0', pod: withConfig('app-config', 'db') });
  return {
    now: min(12),
    policy: DEFAULT_POLICY,
    deploy: { namespace: 'shop', name: 'checkout', start: T0, rollout: { state: 'complete', at: min(5) }, before, after },
    current: after,
    events: [],
    coverage: { config: true, jobs: true },
    regression: errorRegression(),
    neighbours: [],
    revision: { current: 7, previous: 6 },
    blackoutUntil: undefined,
    workloads: [],
    trafficShare: 0.25,
    ...overrides,
  };
}

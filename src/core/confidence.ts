import type { Condition, ConditionKey, Deploy } from './decision-types.js';
import type { Regression } from './regression-types.js';

// Confidence that rolling this deploy back is the right and safe action, in [0,1].
//
// It is a product of one factor per causal condition (R1–R5). A met condition keeps the factor
// at (or near) 1, an unknown one costs less than an unmet one, and an unmet one costs in proportion
// to how strongly it points away from the deploy (an onset before the deploy almost rules it out;
// a mixed change set only says a rollback would be incomplete). The permission conditions (mode,
// GitOps owner, revision, pause, blackout) do not enter: they say whether rollguard may act, not
// whether the deploy is to blame. A 5xx rise with an overwhelming test statistic and an onset right
// at the deploy scores highest; an onset near the end of the window scores a little lower.

type Factor = Record<'met' | 'unmet' | 'unknown', number>;

const FACTORS: Record<'sameService' | 'podSpecOnly' | 'migration', Factor> = {
  sameService: { met: 1, unmet: 0.25, unknown: 0.5 },
  podSpecOnly: { met: 1, unmet: 0.6, unknown: 0.7 },
  migration: { met: 1, unmet: 0.4, unknown: 0.7 },
};

function windowFactor(c: Condition, deploy: Deploy, regression: Regression, windowMs: number, now: number): number {
  if (c.status === 'unknown') return 0.6;
  const onset = regression.onset ?? 0;
  const start = deploy.start ?? onset;
  if (c.status === 'unmet') return onset < start ? 0.05 : 0.3;
  const end = (deploy.rollout.state === 'complete' ? deploy.rollout.at : Math.max(now, start)) + windowMs;
  const position = end > start ? Math.min(1, Math.max(0, (onset - start) / (end - start))) : 0;
  return 1 - 0.25 * position;
}

function signalFactor(c: Condition, regression: Regression): number {
  if (c.status === 'unknown') return 0.4;
  if (c.status === 'unmet') return regression.signal === 'latency' ? 0.5 : 0.3;
  const p = Math.max(regression.errorRate?.pValue ?? 1, 1e-300);
  return 0.8 + 0.2 * Math.min(1, -Math.log10(p) / 12);
}

export function confidenceOf(
  conditions: Record<ConditionKey, Condition>,
  deploy: Deploy,
  regression: Regression | undefined,
  windowMs: number,
  now: number,
): number {
  if (regression?.signal === undefined) return 0;
  let c = windowFactor(conditions.window, deploy, regression, windowMs, now) * signalFactor(conditions.cleanSignal, regression);
  for (const key of ['sameService', 'podSpecOnly', 'migration'] as const) c *= FACTORS[key][conditions[key].status];
  return Math.round(c * 100) / 100;
}

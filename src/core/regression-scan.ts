import { DEFAULT_STEP_MS, detectRegression } from './regression.js';
import type { DetectionInput } from './regression.js';
import type { Regression } from './regression-types.js';

// When did a regression become detectable? Replays detection at every step from the deploy on,
// each evaluation seeing only its own past, and returns the first that reports a signal: what
// the agent would have seen, and when (R1 and R5 as of that moment, no hindsight).

export interface Detection {
  /** The evaluation time at which the regression was first reported. */
  at: number;
  regression: Regression;
}

/** The first evaluation in (deployStart, until] on the policy's step grid that reports a signal. */
export function firstDetection(input: Omit<DetectionInput, 'now'>, until: number): Detection | undefined {
  const stepMs = input.policy.metrics.stepMs ?? DEFAULT_STEP_MS;
  for (let at = Math.floor(input.deployStart / stepMs) * stepMs + stepMs; at <= until; at += stepMs) {
    const regression = detectRegression({ ...input, now: at });
    if (regression.signal !== undefined) return { at, regression };
  }
  return undefined;
}

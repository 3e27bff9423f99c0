import type { Policy } from './policy.js';
import { isActionable } from './decide.js';
import type { Regression } from './regression-types.js';

// How long a deploy is watched, and which regression its decision is about. Shared by the agent
// (live) and replay (history), so both evaluate the same span and attribute the same regression.

/** How long after a rollout that never showed complete rollguard keeps evaluating (F1: unknown). */
export const UNKNOWN_ROLLOUT_MS = 30 * 60_000;
/**
 * How long past the R1 window rollguard keeps watching: a regression that starts later is still
 * put in front of a human (R1 not met: the causal link is weak), not silently ignored.
 */
export const LATE_ONSET_MS = 30 * 60_000;

/** The end of a deploy's R1 window: its completion (or, unseen, a conservative guess) plus the window. */
export function windowEnd(start: number, completeAt: number | undefined, policy: Pick<Policy, 'onsetWindowMs'>): number {
  return (completeAt ?? start + UNKNOWN_ROLLOUT_MS) + policy.onsetWindowMs;
}

/** The end of the span a deploy is evaluated over. */
export function evaluationSpanEnd(start: number, completeAt: number | undefined, policy: Pick<Policy, 'onsetWindowMs'>): number {
  return windowEnd(start, completeAt, policy) + LATE_ONSET_MS;
}

/**
 * R2: the deployed service's own regression when it has one to act on; otherwise the first
 * neighbour's that began inside the deploy's R1 window and that nothing else explains (its own
 * deploy), which the human alert names as evidence; otherwise the service's own picture.
 */
export function regressionToJudge(
  own: Regression,
  neighbours: readonly Regression[],
  policy: Policy,
  window: { start: number; end: number },
  explained: (r: Regression) => boolean,
): Regression {
  if (isActionable(own, policy)) return own;
  const other = neighbours.find(
    (n) => isActionable(n, policy) && n.onset !== undefined && n.onset >= window.start && n.onset <= window.end && !explained(n),
  );
  return other ?? own;
}

// When the agent's evaluation passes start. Detection reads the metrics on the step grid (multiples
// of the policy's step since the epoch) up to the last step boundary before `now`, so a pass late in
// a step sees a regression that became detectable at its start late by up to a step, plus the pass
// itself, and a second pass within one step sees what the first one saw. Each pass therefore starts
// just after a boundary, once the scrapes of the step that ended there have landed in Prometheus.

/** How long after a step boundary its last scrapes are taken to have landed: a tenth of the step, at most 1 s. */
export function scrapeLandingMs(stepMs: number): number {
  return Math.min(stepMs / 10, 1000);
}

/**
 * When the next pass starts, given when the previous one did (or the agent started): `intervalMs`
 * later, rounded to whole steps, just after that boundary. Never in the past: a pass that overran
 * its interval is followed at the next boundary. An interval shorter than the step is kept as it
 * is, unaligned: whoever set it wants passes more often than the step (new deploys, stamps).
 */
export function nextPassAt(previousStart: number, now: number, intervalMs: number, stepMs: number): number {
  if (!(stepMs > 0) || intervalMs < stepMs) return Math.max(now, previousStart + intervalMs);
  const landing = scrapeLandingMs(stepMs);
  // The boundary the previous start belongs to: a timer firing a little late stays on its step.
  const boundary = Math.round((previousStart - landing) / stepMs);
  const next = (boundary + Math.round(intervalMs / stepMs)) * stepMs + landing;
  return next > now ? next : (Math.floor((now - landing) / stepMs) + 1) * stepMs + landing;
}

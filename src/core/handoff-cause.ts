import type { RolloutState } from './decision-types.js';
import { formatDuration, formatElapsed, formatInstant } from './duration.js';
import type { CausalAssessment, NeighbourRecovery, RecoveryStatus } from './handoff-types.js';
import type { RevisionSplit } from './revision-split.js';

// R9: did the rollback fix it? A rollback can only take effect as its rollout replaces the bad
// pods, and the last of them serves until the rollout completes. So the return to the healthy
// band is compared with the rollback and its completion: before either, the rollback cannot have
// caused it; soon after completion, it most likely did; errors that stay up after completion
// point elsewhere. Other services that recovered at the very same moment point to a shared cause.

/** How long after the rollout completed a recovery is still the rollback's effect. */
export const RESPONSE_STEPS = 4;
/** Old pods drain (Kubernetes' default grace period is 30 s) and the metrics lag a scrape or two. */
export const RESPONSE_FLOOR_MS = 30_000;
/** How long an outcome must hold before the assessment settles. */
export const SETTLE_STEPS = 10;
/** Two services recovered "at the same moment" when their returns to the band are this close. */
export const SAME_MOMENT_STEPS = 2;

export function responseMs(stepMs: number): number {
  return Math.max(RESPONSE_STEPS * stepMs, RESPONSE_FLOOR_MS);
}

export interface CauseInput {
  service: string;
  status: RecoveryStatus;
  statusEvidence: readonly string[];
  lowSince: number | undefined;
  rollbackAt: number;
  rollout: RolloutState;
  /** End of the last step with data. */
  lastEnd: number;
  stepMs: number;
  /** Neighbours that were regressing at the rollback. */
  neighbours: readonly NeighbourRecovery[];
  /** Which revision's pods the triggering errors came from. */
  split?: RevisionSplit | undefined;
}

export interface CauseResult {
  kind: CausalAssessment;
  evidence: string[];
  settled: boolean;
}

const names = (ns: readonly NeighbourRecovery[]): string => ns.map((n) => n.service).join(', ');

function sharedRecovery(same: readonly NeighbourRecovery[]): string {
  return `${names(same)}, which regressed at the same time, came back within ${SAME_MOMENT_STEPS} steps of it: something they share (a dependency, the network, traffic) changed`;
}

function stillHigh(c: CauseInput): string[] {
  const high = c.neighbours.filter((n) => n.backInBandSince === undefined);
  return high.length === 0 ? [] : [`${names(high)} regressed at the same time and ${high.length === 1 ? 'has' : 'have'} not recovered either: look for a shared cause`];
}

/** Recovery found: when did it begin relative to the rollback and its completion? */
function withRecovery(c: CauseInput, lowSince: number): CauseResult {
  const tol = c.stepMs;
  const done = c.rollout.state === 'complete' ? c.rollout.at : undefined;
  const same = c.neighbours.filter((n) => n.sameMoment);
  const settled = c.status === 'recovered' && done !== undefined && c.lastEnd - lowSince >= SETTLE_STEPS * c.stepMs;
  const back = `${c.service} was back in the healthy band at ${formatInstant(lowSince)}`;
  let early: string | undefined;
  if (lowSince < c.rollbackAt - tol) early = `${back}, before the rollback at ${formatInstant(c.rollbackAt)}`;
  else if (done !== undefined && lowSince < done - tol) early = `${back}, while the rolled-back pods were still serving: the rollback's rollout completed only at ${formatInstant(done)}`;
  else if (done === undefined && lowSince < c.lastEnd - responseMs(c.stepMs) - tol) early = `${back} and has stayed there while the rollback's rollout is still running`;
  if (early !== undefined) {
    if (same.length > 0) return { kind: 'common-cause', evidence: [early, sharedRecovery(same)], settled };
    return { kind: 'coincidence', evidence: [early, 'the rollback cannot have caused a recovery that came before it took effect: whatever broke may still be there'], settled };
  }
  if (done === undefined) {
    return { kind: 'unknown', evidence: [`${back}; waiting for the rollback's rollout to complete to tell whether the rollback did it`], settled: false };
  }
  const after = formatElapsed(lowSince - done);
  if (lowSince <= done + responseMs(c.stepMs)) {
    const evidence = [`${back}, ${lowSince <= done ? 'as' : `${after} after`} the rollback's rollout completed at ${formatInstant(done)}: the rolled-back code was most likely the cause`];
    if (same.length > 0) evidence.push(`${names(same)} recovered at the same moment: ${same.length === 1 ? 'it likely depends' : 'they likely depend'} on ${c.service}; if not, look for a shared cause`);
    if (c.status !== 'recovered') evidence.push(`not settled until it has held for ${SETTLE_STEPS} steps`);
    return { kind: 'likely-the-rolled-back-code', evidence, settled };
  }
  const late = `errors stayed up for ${after} after the rollback's rollout completed at ${formatInstant(done)}; ${back}`;
  if (same.length > 0) return { kind: 'common-cause', evidence: [late, sharedRecovery(same)], settled };
  return { kind: 'cause-elsewhere', evidence: [late, 'too late to be the rollback: something else brought it back'], settled };
}

function withoutRecovery(c: CauseInput): CauseResult {
  const done = c.rollout.state === 'complete' ? c.rollout.at : undefined;
  const waiting = (why: string): CauseResult => ({ kind: 'unknown', evidence: [why, ...c.statusEvidence], settled: false });
  if (done === undefined) return waiting("the rollback's rollout has not completed yet: the rolled-back pods still serve part of the traffic");
  const grace = done + responseMs(c.stepMs);
  if (c.lastEnd < grace) return waiting(`waiting until ${formatInstant(grace)}, ${formatDuration(responseMs(c.stepMs))} after the rollback's rollout completed, for the error rate to respond`);
  if (c.status !== 'not-recovering') {
    return waiting('the error rate fell but is not back in the healthy band: part of the cause may be elsewhere');
  }
  return {
    kind: 'cause-elsewhere',
    evidence: [
      `errors stayed up for ${formatElapsed(c.lastEnd - done)} after the rollback's rollout completed at ${formatInstant(done)}: the rolled-back code is not (or not the only) cause`,
      ...c.statusEvidence,
      ...stillHigh(c),
    ],
    settled: c.lastEnd >= grace + SETTLE_STEPS * c.stepMs,
  };
}

/**
 * What the split by revision adds: errors confined to the rolled-back pods back a recovery with
 * the rollback, and make errors that outlive it stranger still (state the new code left behind);
 * errors in the older pods too point away from the rolled-back code.
 */
function byRevision(kind: CausalAssessment, split: RevisionSplit | undefined): string[] {
  if (split === undefined) return [];
  const { newPods, oldPods } = split;
  const pods = (n: number) => `${n} pod${n === 1 ? '' : 's'}`;
  const confined = `the errors were confined to the rolled-back revision (${pods(newPods.pods.length)}) while the older ${pods(oldPods.pods.length)} stayed at their baseline`;
  switch (split.kind) {
    case 'new-revision':
      return [kind === 'likely-the-rolled-back-code' ? `${confined}: the rolled-back code, consistent` : kind === 'cause-elsewhere' ? `${confined}: look for what it left behind (data written, caches, queues)` : confined];
    case 'both':
      return ['the pods that predate the deploy failed too: the cause is likely something both revisions share'];
    case 'old-revision':
      return ['the errors were in the pods that predate the deploy, the code the rollback restored: not the rolled-back code'];
    case 'unclear':
      return [];
  }
}

/** The causal assessment. `settled` once it has held long enough to stop watching (never for unknown). */
export function assessCause(c: CauseInput): CauseResult {
  const result = assessOutcome(c);
  return { ...result, evidence: [...result.evidence, ...byRevision(result.kind, c.split)] };
}

function assessOutcome(c: CauseInput): CauseResult {
  if (c.status === 'unknown') return { kind: 'unknown', evidence: ['the error rate since the rollback is not known (F1)', ...c.statusEvidence], settled: false };
  if (c.rollout.state === 'unknown') return { kind: 'unknown', evidence: ["whether the rollback's rollout completed is not known (F1)", ...c.statusEvidence], settled: false };
  if (c.lowSince !== undefined) return withRecovery(c, c.lowSince);
  return withoutRecovery(c);
}

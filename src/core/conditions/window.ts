import type { Condition, Deploy } from '../decision-types.js';
import { formatDuration, formatElapsed, formatInstant } from '../duration.js';
import type { Regression } from '../regression-types.js';
import type { RevisionSplit } from '../revision-split.js';
import { onsetByRevision } from './revision.js';

// R1: the onset lies in [deployStart, deployComplete + window]. The onset's uncertainty widens the
// edges: an onset that may lie on either side of an edge is unknown (F1), never met. An onset in
// the deploy's own step is placed against the deploy start from the scrapes when the detector
// could read them (`onsetInStep`, see onset-in-step.ts): that placement decides the start edge.

export function judgeWindow(deploy: Deploy, regression: Regression | undefined, windowMs: number, split?: RevisionSplit): Condition {
  const traced = onsetByRevision(deploy, regression, split);
  if (traced !== undefined) {
    // Both placements read the same deploy-start interval; when they disagree, neither decides (F1).
    const inStep = regression?.onsetInStep;
    if (inStep?.verdict === 'before') return { status: 'unknown', evidence: `${traced.evidence}; but ${inStep.evidence}: the two placements of the onset disagree` };
    return traced;
  }
  const onset = regression?.onset;
  if (regression?.signal === undefined || onset === undefined) {
    return { status: 'unknown', evidence: 'no regression onset was estimated' };
  }
  if (deploy.start === undefined) return { status: 'unknown', evidence: 'when the deploy started is not known' };
  const inStep = regression.onsetInStep;
  if (inStep === undefined) return judgeOnset(deploy, deploy.start, onset, regression.onsetUncertaintyMs ?? 0, windowMs);
  if (inStep.verdict === 'before') return { status: 'unmet', evidence: inStep.evidence };
  // Undetermined stays unknown even when the grid's onset looks later: the scrapes were read because
  // the grid's step can count requests from a scrape interval before it, and at a few errors a
  // minute its change point falls where the first errors did, after a change that may predate the
  // deploy. The scrapes' own runs after the deploy start are what can show it follows (F1).
  if (inStep.verdict !== 'after' || inStep.onset === undefined) return { status: 'unknown', evidence: inStep.evidence };
  const atOnset = judgeOnset(deploy, deploy.start, Math.max(inStep.onset, deploy.start), 0, windowMs);
  return { ...atOnset, evidence: `${inStep.evidence}; ${atOnset.evidence}` };
}

function judgeOnset(deploy: Deploy, start: number, onset: number, slack: number, windowMs: number): Condition {
  const at = `began at ${formatInstant(onset)}${slack > 0 ? ` (±${formatElapsed(slack)})` : ''}`;
  if (onset < start) {
    if (onset + slack >= start) {
      return { status: 'unknown', evidence: `the regression ${at}, too close to the deploy start (${formatInstant(start)}) to tell whether it predates it` };
    }
    return { status: 'unmet', evidence: `the regression ${at}, ${formatElapsed(start - onset)} before the deploy started (${formatInstant(start)}): it predates the deploy` };
  }
  const sinceStart = `${formatElapsed(onset - start)} after the deploy started`;
  if (deploy.rollout.state === 'progressing') {
    return { status: 'met', evidence: `the regression ${at}, ${sinceStart}, while the rollout is still in progress` };
  }
  if (deploy.rollout.state === 'unknown') {
    if (onset + slack <= start + windowMs) {
      return { status: 'met', evidence: `the regression ${at}, ${sinceStart}: within ${formatDuration(windowMs)} of the start, so within the window whenever the rollout completed` };
    }
    return { status: 'unknown', evidence: `the regression ${at}, ${sinceStart}, and when the rollout completed is not known` };
  }
  const end = deploy.rollout.at + windowMs;
  const afterComplete = onset - deploy.rollout.at;
  const relation = afterComplete <= 0 ? 'during the rollout' : `${formatElapsed(afterComplete)} after the rollout completed`;
  if (onset - slack > end) {
    return { status: 'unmet', evidence: `the regression ${at}, ${relation}: more than ${formatDuration(windowMs)} after completion, the causal link is weak` };
  }
  if (onset + slack > end) {
    return { status: 'unknown', evidence: `the regression ${at}, ${relation}: too close to the ${formatDuration(windowMs)} limit to tell` };
  }
  return { status: 'met', evidence: `the regression ${at}, ${relation} (limit ${formatDuration(windowMs)} after completion)` };
}

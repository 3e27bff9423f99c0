import type { Condition, Deploy } from '../decision-types.js';
import { formatDuration, formatInstant } from '../duration.js';
import type { Regression } from '../regression-types.js';
import type { RevisionSplit } from '../revision-split.js';
import { onsetByRevision } from './revision.js';

// R1: the onset lies in [deployStart, deployComplete + window]. The onset's uncertainty widens the
// edges: an onset that may lie on either side of an edge is unknown (F1), never met.

export function judgeWindow(deploy: Deploy, regression: Regression | undefined, windowMs: number, split?: RevisionSplit): Condition {
  const traced = onsetByRevision(deploy, regression, split);
  if (traced !== undefined) return traced;
  const onset = regression?.onset;
  if (regression?.signal === undefined || onset === undefined) {
    return { status: 'unknown', evidence: 'no regression onset was estimated' };
  }
  if (deploy.start === undefined) return { status: 'unknown', evidence: 'when the deploy started is not known' };
  const slack = regression.onsetUncertaintyMs ?? 0;
  const at = `began at ${formatInstant(onset)}${slack > 0 ? ` (±${formatDuration(slack)})` : ''}`;
  const start = deploy.start;
  if (onset < start) {
    if (onset + slack >= start) {
      return { status: 'unknown', evidence: `the regression ${at}, too close to the deploy start (${formatInstant(start)}) to tell whether it predates it` };
    }
    return { status: 'unmet', evidence: `the regression ${at}, ${formatDuration(start - onset)} before the deploy started (${formatInstant(start)}): it predates the deploy` };
  }
  const sinceStart = `${formatDuration(onset - start)} after the deploy started`;
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
  const relation = afterComplete <= 0 ? 'during the rollout' : `${formatDuration(afterComplete)} after the rollout completed`;
  if (onset - slack > end) {
    return { status: 'unmet', evidence: `the regression ${at}, ${relation}: more than ${formatDuration(windowMs)} after completion, the causal link is weak` };
  }
  if (onset + slack > end) {
    return { status: 'unknown', evidence: `the regression ${at}, ${relation}: too close to the ${formatDuration(windowMs)} limit to tell` };
  }
  return { status: 'met', evidence: `the regression ${at}, ${relation} (limit ${formatDuration(windowMs)} after completion)` };
}

import type { Condition, Deploy } from '../decision-types.js';
import { formatInstant } from '../duration.js';
import type { Regression } from '../regression-types.js';
import type { RevisionSplit } from '../revision-split.js';

// What the split by revision adds to R1 and R2. Errors only in the new revision's pods, with the
// older pods at their baseline, place the onset after the deploy start whatever the metric step;
// errors in the older pods alone are not this deploy's code, and never a case for `auto`.

/**
 * R1 met when the onset estimate lies within twice its own uncertainty of the deploy start, or was
 * close enough for the scrapes to be read (where the counts alone may not tell the side), and the
 * errors are the new revision's; undefined when the split has nothing to add. An onset further back is real
 * pre-deploy data the split cannot overrule (F1).
 */
export function onsetByRevision(deploy: Deploy, regression: Regression | undefined, split: RevisionSplit | undefined): Condition | undefined {
  const onset = regression?.onset;
  const start = deploy.start;
  if (split?.kind !== 'new-revision' || onset === undefined || start === undefined) return undefined;
  if (regression?.signal !== 'error-rate' && regression?.signal !== 'both') return undefined;
  // Near the deploy start only, on either side: an onset well after it is the grid's to judge (the
  // window's far edge), while one the scrapes had to place (and may have left undetermined) is not.
  const reach = 2 * (regression.onsetUncertaintyMs ?? 0);
  if (onset + reach < start || (onset - reach > start && regression.onsetInStep === undefined)) return undefined;
  return {
    status: 'met',
    evidence: `the regression's onset is located to the interval that holds the deploy start (${formatInstant(start)}), and ${split.evidence}`,
  };
}

/** R2 with the split: unmet when only the older pods regressed (naming them); otherwise the split as further evidence. */
export function attributeToRevision(condition: Condition, split: RevisionSplit | undefined): Condition {
  if (split === undefined) return condition;
  const evidence = `${condition.evidence}; ${split.evidence}`;
  return split.kind === 'old-revision' ? { status: 'unmet', evidence } : { ...condition, evidence };
}

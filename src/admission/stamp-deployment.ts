import { ANNOTATIONS } from '../annotations.js';
import { formatInstant, parseInstant } from '../core/duration.js';
import type { Deployment } from '../core/kube.js';
import { formatTemplateHistory, parseTemplateHistory, pushTemplateHistory, templateHash } from '../core/template-hash.js';
import { judgeEligibility } from './eligibility.js';
import type { StampContext, Stamps } from './stamp-types.js';
import { stampTime } from './stamp-time.js';

// Deployment CREATE/UPDATE that changes spec.template: when, which template (hash and history),
// the change set and the eligibility. An update that leaves the template alone stamps nothing.

export function stampDeployment(object: Deployment, old: Deployment | undefined, ctx: StampContext): Stamps {
  const newHash = templateHash(object.spec?.template);
  const oldHash = old === undefined ? undefined : templateHash(old.spec?.template);
  if (newHash === oldHash) return { stamps: new Map(), templateChanged: false, summary: 'template unchanged' };

  const at = stampTime(ctx.requested.get(ANNOTATIONS.templateChangedAt.key), ctx.old.get(ANNOTATIONS.templateChangedAt.key), ctx.now);
  const previous = oldHash === undefined ? undefined : { hash: oldHash, at: parseInstant(ctx.old.get(ANNOTATIONS.templateChangedAt.key)) };
  const history = pushTemplateHistory(parseTemplateHistory(ctx.old.get(ANNOTATIONS.templateHistory.key)), previous, { hash: newHash, at });
  const namespace = object.metadata?.namespace ?? ctx.namespace;
  const result = judgeEligibility({ before: old, after: object, deployStart: at, policy: ctx.policyFor(namespace), cache: ctx.cache });
  const stamps = new Map<string, string>([
    [ANNOTATIONS.templateChangedAt.key, formatInstant(at)],
    [ANNOTATIONS.templateHash.key, newHash],
    [ANNOTATIONS.templateHistory.key, formatTemplateHistory(history)],
    [ANNOTATIONS.changeSet.key, result.changeSet.kind],
    [ANNOTATIONS.changeSetReasons.key, JSON.stringify(result.changeSet.reasons)],
    [ANNOTATIONS.eligibility.key, result.eligibility],
    [ANNOTATIONS.eligibilityReasons.key, JSON.stringify(result.reasons)],
  ]);
  return { stamps, templateChanged: true, summary: `template ${newHash}, change set ${result.changeSet.kind}, ${result.eligibility}` };
}

import { ANNOTATIONS } from '../core/annotations.js';
import { formatInstant, parseInstant } from '../core/duration.js';
import { annotationsOf, type Deployment } from '../core/kube.js';
import { rollbackRecord } from '../core/rollback-record.js';
import { templateSince } from '../core/template-since.js';
import { earlierRevision, formatTemplateHistory, parseTemplateHistory, pushTemplateHistory, sameTemplate, templateHash } from '../core/template-hash.js';
import { judgeEligibility } from '../stamps/eligibility.js';
import type { StampContext, Stamps } from './stamp-types.js';
import { stampTime } from './stamp-time.js';

// Deployment CREATE/UPDATE that changes spec.template: when, which template (hash and history),
// the change set and the eligibility, and for a rollback the rollback record (R8). An update that
// leaves the template alone stamps nothing.

const CHANGED_AT = ANNOTATIONS.templateChangedAt.key;

const unchanged = (): Stamps => ({ stamps: new Map(), templateChanged: false, summary: 'template unchanged' });

export function stampDeployment(object: Deployment, old: Deployment | undefined, ctx: StampContext): Stamps {
  if (old !== undefined && sameTemplate(old.spec?.template, object.spec?.template)) return unchanged();
  const newHash = templateHash(object.spec?.template);
  const oldHash = old === undefined ? undefined : templateHash(old.spec?.template);
  if (newHash === oldHash) return unchanged();

  const oldHistory = parseTemplateHistory(ctx.old.get(ANNOTATIONS.templateHistory.key));
  const returnedTo = oldHash === undefined ? undefined : earlierRevision(oldHistory, oldHash, newHash);
  // `kubectl rollout undo` copies the target ReplicaSet's annotations, with the time its template
  // was first admitted: a copy, not this request's stamp. A rollback is a new deploy start.
  const requestedAt = ctx.requested.get(CHANGED_AT);
  const copied = returnedTo?.at !== undefined && requestedAt === formatInstant(returnedTo.at);
  const at = stampTime(copied ? undefined : requestedAt, ctx.old.get(CHANGED_AT), ctx.now);

  const previous = oldHash === undefined ? undefined : { hash: oldHash, at: parseInstant(ctx.old.get(CHANGED_AT)) };
  const history = pushTemplateHistory(oldHistory, previous, { hash: newHash, at });
  const policy = ctx.policyFor(object.metadata?.namespace ?? ctx.namespace);
  const oldTemplateSince = old === undefined || oldHash === undefined ? undefined : templateSince(annotationsOf(old), oldHash);
  const result = judgeEligibility({ before: old, after: object, deployStart: at, policy, cache: ctx.cache, oldTemplateSince, refs: ctx.deployRefs });
  const stamps = new Map<string, string>([
    [CHANGED_AT, formatInstant(at)],
    [ANNOTATIONS.templateHash.key, newHash],
    [ANNOTATIONS.templateHistory.key, formatTemplateHistory(history)],
    [ANNOTATIONS.changeSet.key, result.changeSet.kind],
    [ANNOTATIONS.changeSetReasons.key, JSON.stringify(result.changeSet.reasons)],
    [ANNOTATIONS.eligibility.key, result.eligibility],
    [ANNOTATIONS.eligibilityReasons.key, JSON.stringify(result.reasons)],
  ]);
  const record = rollbackRecord({
    returnedTo,
    at,
    requester: ctx.requester,
    blackoutMs: policy.blackoutMs,
    trustedWriter: ctx.trustedWriter,
    requestedRolledBackAt: ctx.requested.get(ANNOTATIONS.rolledBackAt.key),
    oldRolledBackAt: ctx.old.get(ANNOTATIONS.rolledBackAt.key),
  });
  if (record.type === 'stamp') for (const [key, value] of record.stamps) stamps.set(key, value);
  const rollback = record.type === 'none' ? '' : record.type === 'agent' ? ", a rollback recorded by the agent" : ', a rollback, recorded';
  return { stamps, templateChanged: true, summary: `template ${newHash}${rollback}, change set ${result.changeSet.kind}, ${result.eligibility}` };
}

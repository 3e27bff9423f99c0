import { ANNOTATIONS } from '../core/annotations.js';
import { classifyChangeSet, type ChangeSet } from '../core/changeset.js';
import type { Deployment } from '../core/kube.js';
import { detectOwner } from '../core/ownership.js';
import type { Policy } from '../core/policy.js';
import { deployRefs, refKey, type ConfigRef, type DeployRefs } from '../core/template-refs.js';
import type { ConfigChange } from '../core/change-events.js';
import type { StampCache } from './stamp-cache.js';

// Eligibility as known at admission: R3 from the change set and the stamps on the ConfigMaps and
// Secrets the old and new templates read, the policy mode, and R13's GitOps owner. The agent
// re-checks everything (R1, R2, R4, R5 need the rollout and the metrics) before it acts.

export type Eligibility = 'eligible' | 'human-required';

export interface EligibilityResult {
  changeSet: ChangeSet;
  eligibility: Eligibility;
  reasons: string[];
}

/**
 * One event, written as a single literal. Written as a spread plus fields, in the webhook's server
 * V8 added the fields on its slow path, new hidden classes included: about 20 µs of a review's CPU
 * (perf of the review path; 5 µs written so).
 */
function configChange(namespace: string, ref: ConfigRef, at: number, action: ConfigChange['action'], content: ConfigChange['content']): ConfigChange {
  return { type: 'config-change', namespace, kind: ref.kind, name: ref.name, at, action, content };
}

/**
 * One config-change event per referenced ConfigMap/Secret, from what the stamp cache knows. An
 * unstamped object (created before rollguard was installed, or written while its webhook was down)
 * whose last write, by the apiserver's own record, lies before `windowStart` cannot have changed in
 * the window and yields no event; any other unstamped object is a change of unknown content (F1).
 */
export function configEvents(cache: StampCache, namespace: string, before: Deployment | undefined, after: Deployment, now: number, windowStart: number, read: DeployRefs = deployRefs(before?.spec?.template, after.spec?.template)): ConfigChange[] {
  const oldKeys = new Set(read.before.all.map(refKey));
  const refs = new Map<string, ConfigRef>();
  for (const ref of [...read.before.all, ...read.after.all]) refs.set(refKey(ref), ref);
  const events: ConfigChange[] = [];
  for (const [key, ref] of refs) {
    const found = cache.lookup(namespace, ref.kind, ref.name);
    if (found.state === 'deleted') {
      events.push(configChange(namespace, ref, found.at, 'delete', 'changed'));
    } else if (found.state === 'missing') {
      // Not there and no deletion seen: the old template's object went away before rollguard watched.
      if (oldKeys.has(key)) events.push(configChange(namespace, ref, now, 'update', 'unknown'));
    } else if (found.contentChangedAt === undefined) {
      if (found.lastWriteAt === undefined || found.lastWriteAt >= windowStart) {
        events.push(configChange(namespace, ref, Math.min(found.lastWriteAt ?? now, now), 'update', 'unknown'));
      }
    } else {
      const created = found.createdAt !== undefined && found.createdAt === found.contentChangedAt;
      events.push(configChange(namespace, ref, found.contentChangedAt, created ? 'create' : 'update', 'changed'));
    }
  }
  return events;
}

export function judgeEligibility(input: {
  before: Deployment | undefined;
  after: Deployment;
  deployStart: number;
  policy: Policy;
  cache: StampCache;
  /** When the old template began running (from the old object's stamps); undefined when not known. */
  oldTemplateSince?: number | undefined;
  /** The refs of `before`'s and `after`'s templates, when the caller has read them already. */
  refs?: DeployRefs | undefined;
}): EligibilityResult {
  const namespace = input.after.metadata?.namespace ?? input.before?.metadata?.namespace ?? '';
  const refs = input.refs ?? deployRefs(input.before?.spec?.template, input.after.spec?.template);
  const changeSet = classifyChangeSet({
    before: input.before,
    after: input.after,
    deployStart: input.deployStart,
    now: input.deployStart,
    events: configEvents(input.cache, namespace, input.before, input.after, input.deployStart, input.deployStart - input.policy.configWindowMs, refs),
    configWindowMs: input.policy.configWindowMs,
    coverage: { config: input.cache.synced() },
    oldTemplateSince: input.oldTemplateSince,
    refs,
  });
  const reasons: string[] = [];
  if (input.before === undefined) reasons.push('the Deployment was just created: there is no earlier revision to roll back to');
  else if (changeSet.kind !== 'pod-spec-only') {
    // The sentences themselves are in change-set-reasons; repeating them would double the annotations.
    reasons.push(`the change set is ${changeSet.kind} (R3; see ${ANNOTATIONS.changeSetReasons.key})`);
  }
  if (input.policy.mode !== 'auto') reasons.push(`the policy mode for this namespace is "${input.policy.mode}", not "auto"`);
  const owner = detectOwner(input.after, `kubectl rollout undo deployment/${input.after.metadata?.name ?? ''} -n ${namespace}`);
  if (owner.reconciles && input.policy.gitops === 'suggest') {
    reasons.push(`reconciled by ${owner.kind} (${owner.name ?? 'unknown'}), which would re-apply the change after a plain rollback`);
  }
  return { changeSet, eligibility: reasons.length === 0 ? 'eligible' : 'human-required', reasons };
}

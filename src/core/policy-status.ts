import { canonicalJson } from './canonical-json.js';
import { formatInstant } from './duration.js';
import type { PolicyCondition, PolicyStatus } from './policy-objects.js';
import type { DesiredStatus } from './policy-resolution.js';

// The status a policy object should carry, as written to its status subresource: one Accepted
// condition (its lastTransitionTime kept while its status stays the same), observedGeneration,
// and the spec that applies. `sameStatus` tells whether a write is needed at all.

export function statusFor(desired: DesiredStatus, previous: PolicyStatus | undefined, now: number): PolicyStatus {
  const status = desired.accepted ? 'True' : 'False';
  const before = previous?.conditions?.find((c) => c.type === 'Accepted');
  const condition: PolicyCondition = {
    type: 'Accepted',
    status,
    reason: desired.reason,
    message: desired.message,
    observedGeneration: desired.observedGeneration,
    lastTransitionTime: before?.status === status ? before.lastTransitionTime : formatInstant(now),
  };
  return {
    observedGeneration: desired.observedGeneration,
    conditions: [condition],
    ...(desired.applied === undefined ? {} : { appliedGeneration: desired.applied.generation, appliedSpec: desired.applied.spec }),
  };
}

/** Equal apart from lastTransitionTime and key order. */
export function sameStatus(a: PolicyStatus | undefined, b: PolicyStatus | undefined): boolean {
  const strip = (s: PolicyStatus | undefined): unknown =>
    s === undefined ? undefined : { ...s, conditions: (s.conditions ?? []).map(({ lastTransitionTime: _t, ...c }) => c) };
  return canonicalJson(strip(a)) === canonicalJson(strip(b));
}

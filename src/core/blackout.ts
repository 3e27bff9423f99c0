import { ANNOTATIONS } from './annotations.js';
import { formatInstant, parseInstant } from './duration.js';
import { earlierRevision, type TemplateHistoryEntry } from './template-hash.js';

// R8: after a rollback, another rollback of the same Deployment is denied until the blackout ends,
// unless a human overrides it. This is the only denial rollguard ever gives (F2).

export interface BlackoutInput {
  namespace: string;
  name: string;
  /** Annotations before the update (where the blackout and the last rollback are recorded). */
  oldAnnotations: Readonly<Record<string, string>>;
  /** Annotations of the update as it will be stored. */
  newAnnotations: Readonly<Record<string, string>>;
  oldTemplateHash: string;
  newTemplateHash: string;
  /** The Deployment's template history before this update. */
  history: readonly TemplateHistoryEntry[];
  now: number;
  /** Who sends this update (the request's user), for the message. */
  requester: string | undefined;
}

export type BlackoutDecision =
  | { allowed: true; reason: string; overridden?: true }
  | { allowed: false; message: string };

export function overrideCommand(namespace: string, name: string): string {
  return `kubectl annotate deployment/${name} -n ${namespace} ${ANNOTATIONS.blackoutOverride.key}="<why>" --overwrite`;
}

function overrideReason(input: BlackoutInput): string | undefined {
  const key = ANNOTATIONS.blackoutOverride.key;
  const value = (input.newAnnotations[key] ?? input.oldAnnotations[key])?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function judgeBlackout(input: BlackoutInput): BlackoutDecision {
  const earlier = earlierRevision(input.history, input.oldTemplateHash, input.newTemplateHash);
  if (earlier === undefined) return { allowed: true, reason: 'not a rollback: the new template is not an earlier revision' };
  const until = parseInstant(input.oldAnnotations[ANNOTATIONS.blackoutUntil.key]);
  // An absent or unreadable blackout never blocks (F2: when rollguard is unsure, it does not deny).
  if (until === undefined) return { allowed: true, reason: 'a rollback, and no blackout is recorded' };
  if (until <= input.now) return { allowed: true, reason: `a rollback after the blackout ended at ${formatInstant(until)}` };
  const override = overrideReason(input);
  if (override !== undefined) return { allowed: true, overridden: true, reason: `a rollback during the blackout until ${formatInstant(until)}, overridden by a human: ${override}` };

  const by = input.oldAnnotations[ANNOTATIONS.rolledBackBy.key] ?? 'unknown';
  const atText = input.oldAnnotations[ANNOTATIONS.rolledBackAt.key] ?? 'an unrecorded time';
  const why = input.oldAnnotations[ANNOTATIONS.rollbackReason.key] ?? 'no reason recorded';
  const target = earlier.at === undefined ? 'an earlier template' : `the template admitted at ${formatInstant(earlier.at)}`;
  return {
    allowed: false,
    message:
      `rollguard blackout (R8): deployment ${input.namespace}/${input.name} was rolled back by ${by} at ${atText} (${why}). ` +
      `Another rollback (to ${target}${input.requester !== undefined ? `, requested by ${input.requester}` : ''}) is blocked until ${formatInstant(until)}, ` +
      'so the first rollback can take effect and be judged before anything else changes. ' +
      `To override, a human runs: ${overrideCommand(input.namespace, input.name)} and then repeats the rollback.`,
  };
}

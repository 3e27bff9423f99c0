import { ANNOTATIONS } from './annotations.js';
import type { Deploy } from './decision-types.js';
import type { ChangeSetKind } from './changeset.js';
import { parseInstant } from './duration.js';
import { annotationsOf, type Deployment, type ReplicaSet } from './kube.js';
import { ownedReplicaSets, previousRevision, type OwnedReplicaSet } from './rollback-plan.js';
import { revisionOf, rolloutComplete } from './rollout.js';
import { templateHash } from './template-hash.js';
import { templateSince } from './template-since.js';

// The agent's view of a deploy, from what the webhook stamped on the Deployment and what the
// Deployment and its ReplicaSets show now: the same `Deploy` the replay builds from an audit log.
// Anything missing or unreadable is unknown and says so in `doubts` (F1: never `auto`).

export interface RolloutCompletedStamp {
  hash: string;
  at: number;
}

export function parseRolloutCompleted(text: string | undefined): RolloutCompletedStamp | undefined | 'invalid' {
  if (text === undefined) return undefined;
  try {
    const raw = JSON.parse(text) as { hash?: unknown; at?: unknown };
    const at = typeof raw.at === 'string' ? parseInstant(raw.at) : undefined;
    if (typeof raw.hash === 'string' && at !== undefined) return { hash: raw.hash, at };
  } catch {
    // fall through
  }
  return 'invalid';
}

export interface StampedDeploy {
  deploy: Deploy;
  templateHash: string;
  /** The template change was stamped by the webhook (its hash is the current template's). */
  stamped: boolean;
  /** When evaluation starts (the stamp, else the newest ReplicaSet's creation), for the metrics. */
  evaluationStart: number | undefined;
  revision: { current: number | undefined; previous: number | null | undefined };
  blackoutUntil: number | undefined;
  /** What the webhook classified at admission, when it is about the current template. */
  admitted: { kind: ChangeSetKind; reasons: string[] } | undefined;
  /** The rollout is seen complete now and the completion stamp does not say so yet. */
  completionToRecord: number | undefined;
  doubts: string[];
  owned: OwnedReplicaSet[];
}

function parseReasons(text: string | undefined): string[] | undefined {
  if (text === undefined) return [];
  try {
    const raw: unknown = JSON.parse(text);
    return Array.isArray(raw) && raw.every((r) => typeof r === 'string') ? raw : undefined;
  } catch {
    return undefined;
  }
}

const CHANGE_SET_KINDS: readonly string[] = ['pod-spec-only', 'mixed', 'unknown'];

function admittedChangeSet(a: Record<string, string>, doubts: string[]): StampedDeploy['admitted'] {
  const kind = a[ANNOTATIONS.changeSet.key];
  const reasons = parseReasons(a[ANNOTATIONS.changeSetReasons.key]);
  if (kind === undefined) return undefined;
  if (!CHANGE_SET_KINDS.includes(kind) || reasons === undefined) {
    doubts.push(`the ${ANNOTATIONS.changeSet.key} stamp is not in a format rollguard knows`);
    return { kind: 'unknown', reasons: [`the change-set stamp could not be read`] };
  }
  return { kind: kind as ChangeSetKind, reasons };
}

/**
 * When the controller itself says the new ReplicaSet became available (the Progressing
 * condition's NewReplicaSetAvailable), else `now`: the moment the rollout was seen complete.
 */
function completionTime(d: Deployment, start: number | undefined, now: number): number {
  const c = d.status?.conditions?.find((x) => x.type === 'Progressing' && x.reason === 'NewReplicaSetAvailable');
  const at = parseInstant(c?.lastUpdateTime);
  return at !== undefined && at <= now && (start === undefined || at >= start) ? at : now;
}

function creationOf(o: OwnedReplicaSet | undefined): number | undefined {
  return parseInstant(o?.replicaSet.metadata?.creationTimestamp);
}

export function stampedDeploy(current: Deployment, replicaSets: readonly ReplicaSet[], now: number): StampedDeploy {
  const a = annotationsOf(current);
  const doubts: string[] = [];
  const hash = templateHash(current.spec?.template);
  const stamped = a[ANNOTATIONS.templateHash.key] === hash;
  const stampedAt = parseInstant(a[ANNOTATIONS.templateChangedAt.key]);
  if (!stamped) doubts.push('the current pod template carries no rollguard stamp (changed while the webhook was down or not stamping): its change set and start are unknown');
  else if (stampedAt === undefined) doubts.push(`the ${ANNOTATIONS.templateChangedAt.key} stamp is missing or unreadable`);
  const start = stamped ? stampedAt : undefined;

  const owned = ownedReplicaSets(current, replicaSets);
  const currentRevision = revisionOf(current);
  const previous = previousRevision(current, owned);
  const previousRs = owned.find((o) => o.revision === previous);
  const newest = owned.find((o) => o.revision === currentRevision);
  // A ReplicaSet known by its metadata only says nothing of the template it ran: before is unknown then.
  const previousTemplate = previousRs?.replicaSet.spec?.template;
  const before: Deployment | undefined = previousTemplate === undefined ? undefined : { ...current, spec: { ...current.spec, template: previousTemplate } };

  const completed = parseRolloutCompleted(a[ANNOTATIONS.rolloutCompleted.key]);
  if (completed === 'invalid') doubts.push(`the ${ANNOTATIONS.rolloutCompleted.key} stamp is not in a format rollguard knows`);
  const recorded = completed !== undefined && completed !== 'invalid' && completed.hash === hash ? completed.at : undefined;
  const liveComplete = rolloutComplete(current, undefined);
  const completeAt = recorded ?? (liveComplete ? completionTime(current, start, now) : undefined);
  const rollout: Deploy['rollout'] = completeAt !== undefined ? { state: 'complete', at: completeAt } : { state: 'progressing' };

  const blackoutText = a[ANNOTATIONS.blackoutUntil.key];
  const blackoutUntil = parseInstant(blackoutText);
  if (blackoutText !== undefined && blackoutUntil === undefined) doubts.push(`the ${ANNOTATIONS.blackoutUntil.key} stamp is unreadable`);

  return {
    deploy: {
      namespace: current.metadata?.namespace ?? '',
      name: current.metadata?.name ?? '',
      start,
      rollout,
      before: stamped ? before : undefined,
      after: current,
      oldTemplateSince: stamped && previousTemplate !== undefined ? templateSince(a, templateHash(previousTemplate)) : undefined,
    },
    templateHash: hash,
    stamped,
    evaluationStart: start ?? creationOf(newest),
    revision: { current: currentRevision, previous },
    blackoutUntil,
    admitted: stamped ? admittedChangeSet(a, doubts) : undefined,
    completionToRecord: recorded === undefined && completeAt !== undefined ? completeAt : undefined,
    doubts,
    owned,
  };
}

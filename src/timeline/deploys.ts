import type { BeforeState } from '../core/before-state.js';
import type { Deploy } from '../core/decision-types.js';
import type { Deployment } from '../core/kube.js';
import type { ChangeEvent } from '../core/change-events.js';

// A deploy as an audit log shows it, with everything learned about it up to the end of the log,
// and the views "as of time t" that a replay decision may use (no hindsight: nothing that happened
// after t leaks into a decision made at t).

export interface DeployRecord {
  namespace: string;
  name: string;
  /** stageTimestamp of the write that changed the pod template. */
  start: number;
  auditID: string;
  user: string | undefined;
  /**
   * `changed`: the template was compared with the one before and differs. `possible`: the write
   * may have changed it but the log cannot tell (no body, or no earlier template to compare with).
   */
  templateChange: 'changed' | 'possible';
  created: boolean;
  before: Deployment | undefined;
  /** How `before` is known: a whole object the log held, the patch's untouched fields, or not at all. */
  beforeKnown: BeforeState;
  after: Deployment | undefined;
  /**
   * `deployment.kubernetes.io/revision`: before the change, and the one the controller gave it.
   * `previous` is null when no revision is left to roll back to (a new Deployment, or
   * `revisionHistoryLimit: 0`, which makes the controller delete the old ReplicaSets).
   */
  revision: { current: number | undefined; previous: number | null | undefined };
  /** When the rollout was seen complete (all replicas updated and available, generation observed). */
  completeAt: number | undefined;
  /** First status report with a body after the start: from then on the rollout state is known. */
  statusSeenAt: number | undefined;
  /** When a later template change replaced this one before it completed. */
  supersededAt: number | undefined;
  /** Set when this template change put back an earlier template. */
  rollback: { how: 'rollout-undo' | 'template-restored'; toRevision: number | undefined } | undefined;
  /**
   * When the template this change replaced began running: the log's previous template change of
   * this Deployment (or its creation). Undefined when the log does not hold it, when that write may
   * not have changed the template, or when it was a rollback (the restored ReplicaSet's pods may be older).
   */
  oldTemplateSince?: number | undefined;
}

/** The deploy as rollguard would have known it at `t`. */
export function deployAsOf(record: DeployRecord, t: number): Deploy {
  const rollout: Deploy['rollout'] =
    record.completeAt !== undefined && record.completeAt <= t
      ? { state: 'complete', at: record.completeAt }
      : record.statusSeenAt !== undefined && record.statusSeenAt <= t
        ? { state: 'progressing' }
        : { state: 'unknown' };
  return {
    namespace: record.namespace,
    name: record.name,
    start: record.start,
    rollout,
    before: record.before,
    beforeKnown: record.beforeKnown,
    after: record.after,
    oldTemplateSince: record.oldTemplateSince,
  };
}

function eventTime(e: ChangeEvent): number {
  return e.type === 'job-run' ? e.startedAt : e.at;
}

/** The timeline as it stood at `t`: later events dropped, Jobs finished after `t` still running. */
export function eventsAsOf(events: readonly ChangeEvent[], t: number): ChangeEvent[] {
  const out: ChangeEvent[] = [];
  for (const e of events) {
    if (eventTime(e) > t) continue;
    if (e.type === 'job-run' && e.finishedAt !== undefined && e.finishedAt > t) out.push({ ...e, finishedAt: undefined });
    else out.push(e);
  }
  return out;
}

export function sortEvents(events: ChangeEvent[]): ChangeEvent[] {
  return events.sort((a, b) => eventTime(a) - eventTime(b));
}

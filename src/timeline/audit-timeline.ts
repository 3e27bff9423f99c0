import type { TimedAuditEvent } from './audit-event.js';
import { ConfigTracker } from './audit-config.js';
import { ContentFingerprints } from './audit-content.js';
import { DeploymentTracker } from './audit-deployments.js';
import { JobTracker } from './audit-jobs.js';
import { resourceOf, TIMELINE_MENTIONS as RECORD_MENTIONS, SeenGenerations, toTimelineRecord, type TimelineRecord, type TimelineResource } from './audit-record.js';
import { ReplicaSetRevisions, type ReplicaSetSeen } from './audit-replicasets.js';
import { sortEvents, type DeployRecord } from './deploys.js';
import type { ChangeEvent } from '../core/change-events.js';

export { isTimelineEvent } from './audit-record.js';

/** Every record the timeline reads names one of these as a JSON string (objectRef.resource). */
export const TIMELINE_MENTIONS: readonly string[] = [...RECORD_MENTIONS, '"replicasets"'];

// The audit-log adapter of the change timeline. `prepare` reduces each accepted audit record to
// what the timeline needs (in any order, as lines are read); `add` takes those records in
// stageTimestamp order and produces the same ChangeEvents the agent produces from admission
// stamps, plus one DeployRecord per pod template change for building decisions.

export interface AuditTimelineResult {
  events: ChangeEvent[];
  deploys: DeployRecord[];
  /**
   * The resources the log holds any record of (reads included). One it never mentions is probably
   * left out by the audit policy, so its changes are unknown, not absent (F1).
   */
  observed: TimelineResource[];
  /**
   * The first and last record the timeline was given (reads included); undefined for an empty log.
   * Before and after it the log tells nothing (F1). Lines that mention none of the tracked
   * resources are not parsed, so the span can be a little shorter than the file's: never longer.
   */
  span: { first: number; last: number } | undefined;
  /** The Deployments' ReplicaSets and their revisions, from the bodies of their writes (empty without). */
  replicaSets: ReplicaSetSeen[];
}

export class AuditTimeline {
  private readonly events: ChangeEvent[] = [];
  private readonly observed = new Set<TimelineResource>();
  private span: { first: number; last: number } | undefined;
  private readonly deploys: DeployRecord[] = [];
  private readonly fingerprints = new ContentFingerprints();
  private readonly generations = new SeenGenerations();
  private readonly replicaSets = new ReplicaSetRevisions();
  private readonly deployments: DeploymentTracker;
  private readonly configs: ConfigTracker;
  private readonly jobs: JobTracker;

  constructor() {
    const push = (e: ChangeEvent) => {
      this.events.push(e);
    };
    this.deployments = new DeploymentTracker({ event: push, deploy: (d) => this.deploys.push(d) });
    this.configs = new ConfigTracker(push);
    this.jobs = new JobTracker(push);
  }

  /** The record the timeline keeps of an audit event, or undefined when it does not concern it. */
  prepare(item: TimedAuditEvent): TimelineRecord | undefined {
    const resource = resourceOf(item.event);
    if (resource !== undefined) this.observed.add(resource);
    this.span = this.span === undefined ? { first: item.at, last: item.at } : { first: Math.min(this.span.first, item.at), last: Math.max(this.span.last, item.at) };
    if (this.replicaSets.take(item)) return undefined;
    return toTimelineRecord(item, this.fingerprints, this.generations);
  }

  add(record: TimelineRecord): void {
    switch (record.resource) {
      case 'deployments':
        this.deployments.handle(record);
        return;
      case 'configmaps':
      case 'secrets':
        this.configs.handle(record);
        return;
      case 'jobs':
        this.jobs.handle(record);
        return;
    }
  }

  result(): AuditTimelineResult {
    return { events: sortEvents([...this.events]), deploys: [...this.deploys], observed: [...this.observed].sort(), span: this.span, replicaSets: this.replicaSets.result() };
  }
}

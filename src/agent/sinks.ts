import type { Logger } from 'pino';
import { formatInstant } from '../core/duration.js';
import { isStatus, paths, type KubeRest } from '../kube/rest.js';
import { handoffLines } from '../render/handoff-text.js';
import type { DecisionRecord } from './decision-record.js';

// Where decisions go. Kubernetes Events on the Deployment are the channel that needs no setup;
// people-facing channels (chat, webhooks, the apply button) implement the same interface.

export type DecisionChange = 'opened' | 'changed' | 'rolled-back' | 'rollback-failed' | 'applied' | 'dismissed' | 'expired' | 'superseded' | 'handoff';

export interface DecisionSink {
  readonly name: string;
  /** Must not throw for delivery problems: it logs them. Called in the background, never blocking evaluation. */
  publish(record: DecisionRecord, change: DecisionChange): Promise<void>;
  /** Where the sink reports what it sent (the Slack message, a webhook event), to be kept on the decision. */
  onDelivered?(note: (delivery: Delivery) => void): void;
}

/** One notification sent for a decision: kept on its RollbackDecision, so a new leader edits the same message. */
export type Delivery = { id: string; slack: { channel: string; ts: string } } | { id: string; webhook: DecisionChange };

const REASONS: Record<DecisionChange, string> = {
  opened: 'RollbackSuggested',
  changed: 'RollbackDecisionChanged',
  'rolled-back': 'RolledBack',
  'rollback-failed': 'RollbackFailed',
  applied: 'RollbackApplied',
  dismissed: 'RollbackDismissed',
  expired: 'RollbackDecisionExpired',
  superseded: 'RollbackDecisionSuperseded',
  handoff: 'RollbackHandoff',
};

const MAX_MESSAGE = 1024;

const clip = (text: string): string => (text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 1)}…`);

function messageOf(record: DecisionRecord, change: DecisionChange): string {
  if (change === 'handoff' && record.handoff !== undefined) return clip([...handoffLines(record.handoff.latest), `decision ${record.id} (GET /decisions/${record.id} on the agent)`].join('\n'));
  const d = record.decision;
  const lines = [
    change === 'rolled-back' ? `rollguard rolled back: ${record.stateReason ?? d.summary}` : change === 'opened' || change === 'changed' ? d.summary : `${record.stateReason ?? change}; was: ${d.summary}`,
    d.command === undefined ? 'no previous revision to roll back to' : `command: ${d.command}`,
    `confidence ${d.confidence.toFixed(2)}; decision ${record.id} (GET /decisions/${record.id} on the agent)`,
  ];
  return clip(lines.join('\n'));
}

/** A core/v1 Event as rollguard writes them: labelled as its own, counted once, stamped `at`. */
export function kubeEvent(e: {
  name: { name: string } | { generateName: string };
  namespace: string;
  involvedObject: Record<string, string>;
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  component: string;
  at: number;
}): Record<string, unknown> {
  const now = formatInstant(e.at);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { ...e.name, namespace: e.namespace, labels: { 'app.kubernetes.io/managed-by': 'rollguard' } },
    involvedObject: e.involvedObject,
    reason: e.reason,
    message: e.message,
    type: e.type,
    source: { component: e.component },
    reportingComponent: e.component,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

export class EventSink implements DecisionSink {
  readonly name = 'kubernetes-events';

  constructor(
    private readonly rest: KubeRest,
    private readonly logger: Logger,
    private readonly clock: () => number,
    private readonly component = 'rollguard-agent',
  ) {}

  /** The Event's name is derived from the decision and the change, so a retry after a crash creates it at most once (F4). */
  eventName(record: Pick<DecisionRecord, 'deployment' | 'id'> & { decision?: { verdict: string }; handoff?: { published: number } | undefined }, change: DecisionChange): string {
    const suffix = change === 'changed' ? `${record.decision?.verdict ?? 'changed'}-${Math.floor(this.clock() / 60_000)}` : change === 'handoff' ? `handoff-${record.handoff?.published ?? 0}` : change;
    return `${record.deployment}.rollguard.${record.id}.${suffix}`.slice(0, 253).replace(/[^a-z0-9.-]/g, '-');
  }

  publish(record: DecisionRecord, change: DecisionChange): Promise<void> {
    return this.emit({ ...record, name: this.eventName(record, change), change, message: messageOf(record, change) });
  }

  /** Writes one Event on the Deployment; an Event of the same name already there means it was written before. */
  async emit(e: { namespace: string; deployment: string; uid: string; id: string; name: string; change: DecisionChange; message: string }): Promise<void> {
    const change = e.change;
    const event = kubeEvent({
      name: { name: e.name },
      namespace: e.namespace,
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: e.namespace, name: e.deployment, uid: e.uid },
      reason: REASONS[change],
      message: e.message,
      type: change === 'rolled-back' || change === 'opened' || change === 'rollback-failed' ? 'Warning' : 'Normal',
      component: this.component,
      at: this.clock(),
    });
    try {
      await this.rest.create(paths.events(e.namespace), event);
    } catch (err) {
      if (isStatus(err, 409)) return;
      this.logger.warn({ sink: this.name, decision: e.id, error: err instanceof Error ? err.message : String(err) }, 'could not write the Event');
    }
  }
}

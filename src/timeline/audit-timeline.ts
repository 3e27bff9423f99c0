import type { AuditEvent, TimedAuditEvent } from './audit-event.js';
import { ConfigTracker } from './audit-config.js';
import { DeploymentTracker } from './audit-deployments.js';
import { JobTracker } from './audit-jobs.js';
import { sortEvents, type DeployRecord } from './deploys.js';
import type { ChangeEvent } from './events.js';

// The audit-log adapter of the change timeline: fed successful audit records in stageTimestamp
// order, it produces the same ChangeEvents the agent produces from admission stamps, plus one
// DeployRecord per pod template change for building decisions.

const WRITES = new Set(['create', 'update', 'patch', 'delete']);

type Resource = 'deployments' | 'configmaps' | 'secrets' | 'jobs';
const GROUP: Record<Resource, string> = { deployments: 'apps', configmaps: '', secrets: '', jobs: 'batch' };

function resourceOf(e: AuditEvent): Resource | undefined {
  const ref = e.objectRef;
  const resource = ref?.resource;
  if (resource !== 'deployments' && resource !== 'configmaps' && resource !== 'secrets' && resource !== 'jobs') return undefined;
  return (ref?.apiGroup ?? '') === GROUP[resource] ? resource : undefined;
}

/** Whether a record can change the timeline: a write to a Deployment, ConfigMap, Secret or Job. */
export function isTimelineEvent(e: AuditEvent): boolean {
  return WRITES.has(e.verb) && resourceOf(e) !== undefined;
}

export interface AuditTimelineResult {
  events: ChangeEvent[];
  deploys: DeployRecord[];
}

export class AuditTimeline {
  private readonly events: ChangeEvent[] = [];
  private readonly deploys: DeployRecord[] = [];
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

  add(item: TimedAuditEvent): void {
    switch (resourceOf(item.event)) {
      case 'deployments':
        this.deployments.handle(item);
        return;
      case 'configmaps':
        this.configs.handle(item, 'ConfigMap');
        return;
      case 'secrets':
        this.configs.handle(item, 'Secret');
        return;
      case 'jobs':
        this.jobs.handle(item);
        return;
      case undefined:
        return;
    }
  }

  result(): AuditTimelineResult {
    return { events: sortEvents([...this.events]), deploys: [...this.deploys] };
  }
}

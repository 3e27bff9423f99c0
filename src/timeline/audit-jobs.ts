import type { Job } from '../core/kube.js';
import { keyOf, patchBody, resultObject, stripManagedFields } from './audit-bodies.js';
import type { TimedAuditEvent } from './audit-event.js';
import type { JobRun } from './events.js';

// Jobs in an audit log: a run starts when the Job is created and ends when a status write shows it
// finished (completionTime, or a Complete/Failed condition), or when the Job is deleted. Without a
// status body (Metadata level) the end stays unknown and the run counts as still going (F1).

interface JobStatusBody {
  startTime?: string;
  completionTime?: string;
  conditions?: { type?: string; status?: string; lastTransitionTime?: string }[];
}

function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** When the status says the Job finished, or undefined. */
export function finishedAt(status: JobStatusBody | undefined, at: number): number | undefined {
  if (status === undefined) return undefined;
  const done = status.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  if (status.completionTime === undefined && done === undefined) return undefined;
  return parseTime(status.completionTime) ?? parseTime(done?.lastTransitionTime) ?? at;
}

function statusOf(e: TimedAuditEvent['event']): { job: Job | undefined; status: JobStatusBody | undefined } {
  const job = resultObject(e) as Job | undefined;
  if (job !== undefined) return { job, status: job.status };
  // A status patch without the stored result still carries the fields it sets.
  const patch = patchBody(e);
  const status = typeof patch === 'object' && patch !== null && !Array.isArray(patch) ? (patch as { status?: JobStatusBody }).status : undefined;
  return { job: undefined, status };
}

export class JobTracker {
  private readonly runs = new Map<string, JobRun>();

  constructor(private readonly emit: (e: JobRun) => void) {}

  handle({ at, event: e }: TimedAuditEvent): void {
    const namespace = e.objectRef?.namespace;
    const name = e.objectRef?.name;
    if (namespace === undefined || name === undefined) return;
    const key = keyOf(namespace, name);
    const sub = e.objectRef?.subresource;
    if (sub !== undefined && sub !== 'status') return;
    if (e.verb === 'create' && sub === undefined) {
      const job = resultObject(e) as Job | undefined;
      this.start(key, { type: 'job-run', namespace, name, startedAt: at, finishedAt: undefined, job: job === undefined ? undefined : stripManagedFields(job) });
      return;
    }
    if (e.verb === 'delete' && sub === undefined) {
      const run = this.runs.get(key);
      if (run !== undefined && run.finishedAt === undefined) run.finishedAt = at;
      this.runs.delete(key);
      return;
    }
    if (e.verb !== 'update' && e.verb !== 'patch') return;
    const { job, status } = statusOf(e);
    let run = this.runs.get(key);
    if (run === undefined) {
      // A Job created before the log began: its run started at status.startTime, if the body says.
      if (status === undefined) return;
      run = { type: 'job-run', namespace, name, startedAt: parseTime(status.startTime) ?? at, finishedAt: undefined, job: job === undefined ? undefined : stripManagedFields(job) };
      this.start(key, run);
    }
    run.finishedAt ??= finishedAt(status, at);
  }

  private start(key: string, run: JobRun): void {
    this.runs.set(key, run);
    this.emit(run);
  }
}

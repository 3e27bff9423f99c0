import { keyOf } from './audit-bodies.js';
import type { JobRecord, JobStatusBody } from './audit-record.js';
import type { JobRun } from '../core/change-events.js';
import { parseInstant } from '../core/duration.js';

// Jobs in an audit log: a run starts when the Job is created and ends when a status write shows it
// finished (completionTime, or a Complete/Failed condition), or when the Job is deleted. Without a
// status body (Metadata level) the end stays unknown and the run counts as still going (F1).

/** When the status says the Job finished, or undefined. */
export function finishedAt(status: JobStatusBody | undefined, at: number): number | undefined {
  if (status === undefined) return undefined;
  const done = status.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  if (status.completionTime === undefined && done === undefined) return undefined;
  return parseInstant(status.completionTime) ?? parseInstant(done?.lastTransitionTime) ?? at;
}

export class JobTracker {
  private readonly runs = new Map<string, JobRun>();

  constructor(private readonly emit: (e: JobRun) => void) {}

  handle(r: JobRecord): void {
    const key = keyOf(r.namespace, r.name);
    const { at, namespace, name, subresource: sub } = r;
    if (sub !== undefined && sub !== 'status') return;
    if (r.verb === 'create' && sub === undefined) {
      this.start(key, { type: 'job-run', namespace, name, startedAt: at, finishedAt: undefined, job: r.object });
      return;
    }
    if (r.verb === 'delete') {
      const run = this.runs.get(key);
      if (run !== undefined && run.finishedAt === undefined) run.finishedAt = at;
      this.runs.delete(key);
      return;
    }
    let run = this.runs.get(key);
    if (run === undefined) {
      // A Job created before the log began: its run started at status.startTime, if the body says.
      if (r.status === undefined) return;
      run = { type: 'job-run', namespace, name, startedAt: parseInstant(r.status.startTime) ?? at, finishedAt: undefined, job: r.object };
      this.start(key, run);
    }
    run.finishedAt ??= finishedAt(r.status, at);
  }

  private start(key: string, run: JobRun): void {
    this.runs.set(key, run);
    this.emit(run);
  }
}

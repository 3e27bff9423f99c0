import { ANNOTATIONS } from '../core/annotations.js';
import { parseInstant } from '../core/duration.js';
import type { Job } from '../core/kube.js';
import { isStatus, paths, type KubeRest } from '../kube/rest.js';
import type { JobRun } from '../core/change-events.js';

// R4 needs when each Job in a namespace ran. Jobs are watched as metadata only (memory), which says
// when a Job was admitted but not when it finished; so the Jobs that can overlap a deploy's
// migration window are read in full once, and a finished run (which never changes again) is kept.
// Deleted Jobs leave a tombstone: they ran at most until they were deleted.

const FORGET_AFTER_MS = 6 * 3_600_000;

function startOf(job: Job): number | undefined {
  return parseInstant(job.status?.startTime) ?? parseInstant(job.metadata?.annotations?.[ANNOTATIONS.admittedAt.key]) ?? parseInstant(job.metadata?.creationTimestamp);
}

function finishOf(job: Job): number | undefined {
  const done = (job.status as { conditions?: { type: string; status: string; lastTransitionTime?: string }[] } | undefined)?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
  return parseInstant(job.status?.completionTime) ?? parseInstant(done?.lastTransitionTime);
}

function runOf(job: Job, startedAt: number, finishedAt: number | undefined): JobRun {
  return { type: 'job-run', namespace: job.metadata?.namespace ?? '', name: job.metadata?.name ?? '', startedAt, finishedAt, job };
}

export interface JobRunsResult {
  runs: JobRun[];
  /** False when a Job's run could not be read: a migration cannot be ruled out (F1). */
  complete: boolean;
  problems: string[];
}

export class JobRuns {
  private readonly finished = new Map<string, JobRun>();
  private readonly tombstones = new Map<string, JobRun>();

  constructor(
    private readonly rest: KubeRest,
    private readonly clock: () => number,
  ) {}

  /** The watch saw a Job go away: keep that it ran until then. */
  deleted(job: Job): void {
    const start = startOf(job);
    const uid = job.metadata?.uid ?? `${job.metadata?.namespace ?? ''}/${job.metadata?.name ?? ''}`;
    if (start === undefined || this.finished.has(uid)) return;
    this.tombstones.set(uid, runOf(job, start, this.clock()));
  }

  async runsFor(namespace: string, jobs: readonly Job[], windowEnd: number): Promise<JobRunsResult> {
    this.prune();
    const runs: JobRun[] = [];
    const problems: string[] = [];
    for (const meta of jobs) {
      const uid = meta.metadata?.uid ?? '';
      const start = startOf(meta);
      if (start === undefined || start > windowEnd) continue;
      const known = this.finished.get(uid);
      if (known !== undefined) {
        runs.push(known);
        continue;
      }
      try {
        const job = await this.rest.get<Job>(paths.job(namespace, meta.metadata?.name ?? ''));
        const run = runOf(job, startOf(job) ?? start, finishOf(job));
        if (run.finishedAt !== undefined) this.finished.set(uid, run);
        runs.push(run);
      } catch (err) {
        if (isStatus(err, 404)) runs.push(runOf(meta, start, this.clock()));
        else problems.push(`Job ${namespace}/${meta.metadata?.name ?? ''} could not be read: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    for (const t of this.tombstones.values()) if (t.namespace === namespace) runs.push(t);
    return { runs, complete: problems.length === 0, problems };
  }

  private prune(): void {
    const horizon = this.clock() - FORGET_AFTER_MS;
    for (const map of [this.finished, this.tombstones]) {
      for (const [k, run] of map) if ((run.finishedAt ?? Infinity) < horizon) map.delete(k);
    }
  }
}

import type { JobRun } from '../change-events.js';
import { coverageEvidence, isCovered } from '../coverage.js';
import type { Condition, Coverage, Deploy } from '../decision-types.js';
import { formatDuration, formatInstant } from '../duration.js';
import type { LabelSelector } from '../kube.js';
import { detectMigration } from '../migrations.js';

// R4: a migration Job in the namespace whose run overlaps [deployStart − W, deployComplete + W]
// stops automation. Full stop: no policy mode or setting turns this off. While the rollout has not
// completed (or its end is unknown) the window stays open up to now.

export interface MigrationInput {
  deploy: Deploy;
  now: number;
  windowMs: number;
  selectors: readonly LabelSelector[];
  jobs: readonly JobRun[];
  /** Whether every Job in the namespace is seen, and why. */
  jobsKnown: Coverage;
}

export function judgeMigration(input: MigrationInput): Condition {
  const { deploy, now, windowMs } = input;
  if (deploy.start === undefined) return { status: 'unknown', evidence: 'when the deploy started is not known, so the migration window cannot be placed' };
  const from = deploy.start - windowMs;
  const to = (deploy.rollout.state === 'complete' ? deploy.rollout.at : now) + windowMs;
  const found: string[] = [];
  for (const run of input.jobs) {
    if (run.namespace !== deploy.namespace || run.startedAt > now) continue;
    const end = run.finishedAt ?? now;
    if (run.startedAt > to || end < from) continue;
    const match = detectMigration(run.job ?? { metadata: { name: run.name } }, input.selectors, { readStamp: true });
    if (!match.migration) continue;
    const when = run.finishedAt === undefined ? `started ${formatInstant(run.startedAt)}, still running` : `ran ${formatInstant(run.startedAt)} – ${formatInstant(run.finishedAt)}`;
    found.push(`migration Job ${run.name} (${match.reason}) ${when}`);
  }
  const window = `the window from ${formatDuration(windowMs)} before the deploy to ${formatDuration(windowMs)} after ${deploy.rollout.state === 'complete' ? 'its completion' : 'now'}`;
  if (found.length > 0) {
    return { status: 'unmet', evidence: `${found.join('; ')}: within ${window}; automated rollback is disabled for this deploy` };
  }
  const why = coverageEvidence(input.jobsKnown);
  if (!isCovered(input.jobsKnown)) return { status: 'unknown', evidence: `${why ?? 'rollguard cannot see every Job in this namespace'}, so a migration cannot be ruled out` };
  return { status: 'met', evidence: `no migration Job ran in ${window}${why === undefined ? '' : `; ${why}`}` };
}

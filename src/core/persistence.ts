import * as z from 'zod';
import { parseDuration, formatDuration } from './duration.js';

// R5: how long a breach must last before it counts as a regression. Written as a duration ("90s")
// so its meaning does not change with the metric step; the older count of consecutive evaluations
// is still accepted. The detector counts evaluations, so a duration becomes ⌈duration / step⌉.

export type Persistence = { durationMs: number } | { evaluations: number };

/** The detector looks back this many evaluations for a breach's start; a longer persistence could never pass. */
export const MAX_PERSISTENCE_EVALUATIONS = 60;

export function persistenceEvaluations(p: Persistence, stepMs: number): number {
  return 'evaluations' in p ? p.evaluations : Math.max(1, Math.ceil(p.durationMs / stepMs));
}

/** "90s (3 evaluations at a 30s step)" or "3 evaluations (90s at a 30s step)". */
export function describePersistence(p: Persistence, stepMs: number): string {
  const n = persistenceEvaluations(p, stepMs);
  const evaluations = `${String(n)} evaluation${n === 1 ? '' : 's'}`;
  return 'evaluations' in p ? `${evaluations} (${formatDuration(n * stepMs)} at a ${formatDuration(stepMs)} step)` : `${formatDuration(p.durationMs)} (${evaluations} at a ${formatDuration(stepMs)} step)`;
}

const FIELD = 'thresholds.persistence';

export const persistenceSchema = z.union([z.number(), z.string()]).transform((value, ctx): Persistence => {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 1 && value <= MAX_PERSISTENCE_EVALUATIONS) return { evaluations: value };
    ctx.addIssue({ code: 'custom', message: `${FIELD} as a count must be a whole number of evaluations from 1 to ${String(MAX_PERSISTENCE_EVALUATIONS)} (got ${String(value)}); prefer a duration such as "90s"` });
    return z.NEVER;
  }
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1000) {
    ctx.addIssue({ code: 'custom', message: `${FIELD} must be a duration of at least 1s such as "90s" or "2m", or a count of evaluations (got ${JSON.stringify(value)})` });
    return z.NEVER;
  }
  return { durationMs: ms };
});

import { ANNOTATIONS } from '../core/annotations.js';
import { formatInstant } from '../core/duration.js';
import type { Job } from '../core/kube.js';
import { detectMigration } from '../core/migrations.js';
import type { StampContext, Stamps } from './stamp-types.js';
import { stampTime } from './stamp-time.js';

// Job CREATE: whether it is a schema migration (R4) and why, and when it was admitted. Later
// updates (status, suspend) stamp nothing.

export function stampJob(object: Job, isCreate: boolean, ctx: StampContext): Stamps {
  if (!isCreate) return { stamps: new Map(), templateChanged: false, summary: 'job update' };
  const at = stampTime(ctx.requested.get(ANNOTATIONS.admittedAt.key), undefined, ctx.now);
  const match = detectMigration(object, ctx.policyFor(object.metadata?.namespace ?? ctx.namespace).migrationSelectors);
  const stamps = new Map([
    [ANNOTATIONS.admittedAt.key, formatInstant(at)],
    [ANNOTATIONS.migrationDetected.key, String(match.migration)],
    [ANNOTATIONS.migrationReason.key, match.reason],
  ]);
  return { stamps, templateChanged: false, summary: `migration ${String(match.migration)}` };
}

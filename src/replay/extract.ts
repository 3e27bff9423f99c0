import { AuditTimeline, TIMELINE_MENTIONS, type AuditTimelineResult } from '../timeline/audit-timeline.js';
import { requestBodyRead } from '../timeline/audit-bodies.js';
import { readAuditLog, type AuditReadOptions, type AuditReadStats } from './audit-reader.js';

// From audit log files to the change timeline and its deploys, in one streaming pass.

export interface ReplayTimeline extends AuditTimelineResult {
  stats: AuditReadStats;
}

export async function timelineFromAuditLog(paths: readonly string[], options: AuditReadOptions = {}): Promise<ReplayTimeline> {
  const timeline = new AuditTimeline();
  const stats = await readAuditLog(
    paths,
    (item) => timeline.prepare(item),
    (record) => {
      timeline.add(record);
    },
    { mentions: TIMELINE_MENTIONS, requestBodyRead, ...options },
  );
  return { ...timeline.result(), stats };
}

import { AuditTimeline, isTimelineEvent, type AuditTimelineResult } from '../timeline/audit-timeline.js';
import { readAuditLog, type AuditReadOptions, type AuditReadStats } from './audit-reader.js';

// From audit log files to the change timeline and its deploys, in one streaming pass.

export interface ReplayTimeline extends AuditTimelineResult {
  stats: AuditReadStats;
}

export async function timelineFromAuditLog(paths: readonly string[], options: Omit<AuditReadOptions, 'relevant'> = {}): Promise<ReplayTimeline> {
  const timeline = new AuditTimeline();
  const stats = await readAuditLog(paths, (item) => {
    timeline.add(item);
  }, { ...options, relevant: isTimelineEvent });
  return { ...timeline.result(), stats };
}

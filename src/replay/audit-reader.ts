import { stat } from 'node:fs/promises';
import { parseAuditLine, type AuditEvent, type SkipReason, type TimedAuditEvent } from '../timeline/audit-event.js';
import { firstLine, forEachLine, type FileResult } from './lines.js';
import { Progress, type ProgressSink } from './progress.js';
import { ReorderBuffer } from './reorder.js';

// Reads kube-apiserver audit log files (plain or gzip, rotated ones in order) as a stream and hands
// every successful, completed, relevant audit Event to `sink` once, in stageTimestamp order. Every
// other line is counted by reason; nothing in a log stops the read.

export interface AuditReadOptions {
  /** Only events this accepts are deduplicated, ordered and passed on; the rest are just counted. */
  relevant?: (event: AuditEvent) => boolean;
  /** How far out of stageTimestamp order a record may arrive and still be put in its place. */
  reorderWindowMs?: number;
  /** Where the progress line goes (normally process.stderr); none when undefined. */
  progress?: ProgressSink;
  clock?: () => number;
}

export interface AuditReadStats {
  files: FileResult[];
  /** Non-blank lines read. */
  lines: number;
  /** Successful, completed audit Events (relevant or not, before deduplication). */
  events: number;
  /** Events passed to the sink. */
  used: number;
  /** Successful events about resources the timeline does not track. */
  irrelevant: number;
  skipped: Partial<Record<SkipReason, number>>;
}

export const DEFAULT_REORDER_WINDOW_MS = 5 * 60_000;

function count(stats: AuditReadStats, reason: SkipReason, n = 1): void {
  stats.skipped[reason] = (stats.skipped[reason] ?? 0) + n;
}

/**
 * Puts rotated files in time order by their first record (kube-apiserver's backups carry a
 * timestamp in their name, but copies and shell globs do not always sort right). Files whose first
 * line has no time keep their place after the dated ones.
 */
export async function orderByFirstEvent(paths: readonly string[]): Promise<string[]> {
  const keyed = await Promise.all(
    paths.map(async (path, i) => {
      const line = await firstLine(path);
      const parsed = line === undefined ? undefined : parseAuditLine(line);
      return { path, i, at: typeof parsed === 'object' ? parsed.at : Number.POSITIVE_INFINITY };
    }),
  );
  return keyed.sort((a, b) => a.at - b.at || a.i - b.i).map((k) => k.path);
}

export async function readAuditLog(
  paths: readonly string[],
  sink: (item: TimedAuditEvent) => void,
  options: AuditReadOptions = {},
): Promise<AuditReadStats> {
  const relevant = options.relevant ?? (() => true);
  const stats: AuditReadStats = { files: [], lines: 0, events: 0, used: 0, irrelevant: 0, skipped: {} };
  const ordered = await orderByFirstEvent(paths);
  const buffer = new ReorderBuffer(options.reorderWindowMs ?? DEFAULT_REORDER_WINDOW_MS, (item) => {
    stats.used++;
    sink(item);
  });
  let totalBytes = 0;
  for (const p of ordered) totalBytes += (await stat(p)).size;
  const progress =
    options.progress && Progress.enabled(options.progress, totalBytes)
      ? new Progress(options.progress, options.clock ?? (() => performance.now()))
      : undefined;

  stats.files = await forEachLine(ordered, (line, position) => {
    const parsed = parseAuditLine(line);
    if (parsed === undefined) return;
    stats.lines++;
    progress?.tick(stats.lines, position);
    if (typeof parsed === 'string') {
      count(stats, parsed);
      return;
    }
    stats.events++;
    if (!relevant(parsed.event)) {
      stats.irrelevant++;
      return;
    }
    const rejected = buffer.push(parsed);
    if (rejected !== undefined) count(stats, rejected);
  });
  buffer.flush();
  progress?.done();
  for (const f of stats.files) if (f.truncated !== undefined) count(stats, 'truncated-file');
  return stats;
}

import { stat } from 'node:fs/promises';
import { parseAuditLine, type AuditEvent, type SkipReason, type TimedAuditEvent } from '../timeline/audit-event.js';
import { AuditLineParser } from './audit-line.js';
import type { FileResult } from './lines.js';
import { mergeLines } from './merge-lines.js';
import { Progress, type ProgressSink } from './progress.js';
import { ReorderBuffer, type Ordered } from './reorder.js';

// Reads kube-apiserver audit log files (plain or gzip; rotated files, and the logs of several
// apiservers, merged in time order) as a stream. Every
// successful, completed audit Event goes through `prepare`, which keeps what the caller needs of it
// (or nothing: the event is irrelevant); those records reach `sink` once each, in stageTimestamp
// order. Every other line is counted by reason; nothing in a log stops the read.

export interface AuditReadOptions {
  /**
   * Strings at least one of which every line that can matter contains (e.g. '"deployments"'). A
   * line holding none of them that is recognizably a whole audit.k8s.io/v1 record is counted as
   * irrelevant without being parsed: most of an audit log is reads, leases and Events, and this
   * keeps the reader fast and its garbage low. Other lines are always parsed and classified.
   */
  mentions?: readonly string[];
  /**
   * Whether `prepare` reads the content of a record's request body, not only whether it has one.
   * When it does not, the body is checked but not parsed, and holds NOT_READ (audit-line.ts).
   */
  requestBodyRead?: (e: AuditEvent) => boolean;
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
  /** Records passed to the sink. */
  used: number;
  /** Lines about something the caller does not track (other resources, reads). */
  irrelevant: number;
  /** Lines that could have mattered but were not used, by reason. */
  skipped: Partial<Record<SkipReason, number>>;
}

export const DEFAULT_REORDER_WINDOW_MS = 5 * 60_000;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether a line is a whole-looking audit.k8s.io/v1 record that mentions none of the strings. One
 * regular expression for all of them: `includes` per string searches for each one's leading quote,
 * which a JSON line holds every few bytes, and costs as much as parsing the line.
 */
function irrelevanceTest(mentions: readonly string[]): ((line: string) => boolean) | undefined {
  if (mentions.length === 0) return undefined;
  const any = new RegExp(mentions.map((m) => m.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')).join('|'));
  return (line) => line.charCodeAt(0) === OPEN_BRACE && line.charCodeAt(line.length - 1) === CLOSE_BRACE && !any.test(line) && line.includes('"audit.k8s.io/v1"');
}

function count(stats: AuditReadStats, reason: SkipReason, n = 1): void {
  stats.skipped[reason] = (stats.skipped[reason] ?? 0) + n;
}

/**
 * `prepare` runs as each line is parsed, in file order, and should return something small: records
 * are held in the reorder window in that form.
 */
export async function readAuditLog<T extends Ordered>(
  paths: readonly string[],
  prepare: (item: TimedAuditEvent) => T | undefined,
  sink: (record: T) => void,
  options: AuditReadOptions = {},
): Promise<AuditReadStats> {
  const stats: AuditReadStats = { files: [], lines: 0, used: 0, irrelevant: 0, skipped: {} };
  const cannotMatter = irrelevanceTest(options.mentions ?? []);
  const parser = options.requestBodyRead === undefined ? undefined : new AuditLineParser(options.requestBodyRead);
  const buffer = new ReorderBuffer<T>(options.reorderWindowMs ?? DEFAULT_REORDER_WINDOW_MS, (record) => {
    stats.used++;
    sink(record);
  });
  let totalBytes = 0;
  for (const p of paths) totalBytes += await stat(p).then((s) => s.size, () => 0);
  const progress =
    options.progress && Progress.enabled(options.progress, totalBytes)
      ? new Progress(options.progress, options.clock ?? (() => performance.now()))
      : undefined;

  stats.files = await mergeLines(paths, (line, position) => {
    if (cannotMatter?.(line) === true) {
      stats.lines++;
      stats.irrelevant++;
      progress?.tick(stats.lines, position);
      return;
    }
    const parsed = parser === undefined ? parseAuditLine(line) : parser.parse(line);
    if (parsed === undefined) return;
    stats.lines++;
    progress?.tick(stats.lines, position);
    if (typeof parsed === 'string') {
      count(stats, parsed);
      return;
    }
    const record = prepare(parsed);
    if (record === undefined) {
      stats.irrelevant++;
      return;
    }
    const rejected = buffer.push(record);
    if (rejected !== undefined) count(stats, rejected);
  });
  buffer.flush();
  progress?.done();
  for (const f of stats.files) if (f.truncated !== undefined) count(stats, 'truncated-file');
  return stats;
}

import { basename } from 'node:path';
import type { FilePosition } from './lines.js';

// A single self-overwriting progress line on a terminal's stderr while a large audit log is read:
// how many events, how fast, and where in which file. Silent when stderr is not a terminal (CI,
// pipes) or the input is small, so logs and captured output stay clean.

export interface ProgressSink {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** Inputs smaller than this are read in a few seconds: no progress line. */
export const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;
const INTERVAL_MS = 1000;

export function formatProgress(events: number, elapsedMs: number, pos: FilePosition): string {
  const rate = elapsedMs > 0 ? Math.round((events * 1000) / elapsedMs) : 0;
  const pct = pos.size > 0 ? Math.min(100, Math.floor((pos.bytesRead * 100) / pos.size)) : 100;
  return `audit: ${events.toLocaleString('en-US')} events, ${rate.toLocaleString('en-US')} events/s, file ${pos.index + 1}/${pos.count} ${basename(pos.path)} ${pct}%`;
}

export class Progress {
  private lastDraw = 0;
  private drawn = false;

  /** `clock` returns milliseconds; it is a parameter so the line can be tested without waiting. */
  constructor(
    private readonly sink: ProgressSink,
    private readonly clock: () => number,
    private readonly started = clock(),
  ) {}

  static enabled(sink: ProgressSink, totalBytes: number): boolean {
    return sink.isTTY === true && totalBytes >= PROGRESS_MIN_BYTES;
  }

  /** Cheap to call per line: draws at most once a second. */
  tick(events: number, pos: FilePosition): void {
    if ((events & 0x3ff) !== 0) return;
    const now = this.clock();
    if (now - this.lastDraw < INTERVAL_MS) return;
    this.lastDraw = now;
    this.drawn = true;
    this.sink.write(`\r\x1b[2K${formatProgress(events, now - this.started, pos)}`);
  }

  /** Clears the line so what follows starts on a clean terminal line. */
  done(): void {
    if (this.drawn) this.sink.write('\r\x1b[2K');
  }
}

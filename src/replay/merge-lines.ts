import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { constants as zlibConstants, createGunzip } from 'node:zlib';
import { isGzip, type FilePosition, type FileResult, type LineHandler } from './lines.js';

// Reads several audit log files as one stream in time order. Rotated files of one apiserver follow
// each other; the logs of an HA control plane's apiservers run side by side, each holding part of
// the requests. All files are open at once and the next line always comes from the file whose
// current line is earliest (by its stageTimestamp, to the second: the reorder window sorts within
// a second), so both cases come out merged. Per file only one 64 KiB chunk's lines are held.

const STAGE_TS = '"stageTimestamp":"';
/** "2026-03-02T10:00:00": the second is enough to merge by; it sorts as text. */
const KEY_LENGTH = 19;

/** The merge key of a line: its stageTimestamp to the second, or `fallback` when it has none. */
export function mergeKey(line: string, fallback: string): string {
  // stageTimestamp comes after the request and response bodies: search from the end.
  const i = line.lastIndexOf(STAGE_TS);
  if (i < 0) return fallback;
  const start = i + STAGE_TS.length;
  return line.length >= start + KEY_LENGTH ? line.slice(start, start + KEY_LENGTH) : fallback;
}

interface Cursor {
  position: FilePosition;
  result: FileResult;
  batches: AsyncIterator<string[]> | undefined;
  batch: string[];
  i: number;
  key: string;
  done: boolean;
}

async function* batchesOf(path: string, gzip: boolean, cursor: { position: FilePosition; result: FileResult }): AsyncGenerator<string[]> {
  // 64 KiB chunks: each decoded chunk stays a young-generation string (larger ones go straight to
  // V8's large-object space, which only a full GC frees).
  const file = createReadStream(path, { highWaterMark: 64 * 1024 });
  file.on('data', (chunk) => {
    cursor.position.bytesRead += chunk.length;
  });
  // Z_SYNC_FLUSH: a log cut off mid-stream (rotation, copy in progress) yields what it holds.
  const source = gzip ? file.pipe(createGunzip({ finishFlush: zlibConstants.Z_SYNC_FLUSH })) : file;
  if (source !== file) file.on('error', (err) => source.destroy(err));
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const lines = (rest + decoder.write(chunk)).split('\n');
      rest = lines.pop() ?? '';
      if (lines.length > 0) yield lines;
    }
    rest += decoder.end();
  } catch (err) {
    cursor.result.truncated = err instanceof Error ? err.message : String(err);
  } finally {
    file.destroy();
  }
  if (rest.length > 0) yield [rest];
}

async function refill(c: Cursor): Promise<void> {
  for (;;) {
    const next = c.batches === undefined ? undefined : await c.batches.next();
    if (next === undefined || next.done === true) {
      c.done = true;
      return;
    }
    if (next.value.length > 0) {
      c.batch = next.value;
      c.i = 0;
      return;
    }
  }
}

async function open(path: string, index: number, count: number): Promise<Cursor> {
  const result: FileResult = { path, lines: 0, size: 0, gzip: false, truncated: undefined };
  const position: FilePosition = { path, index, count, bytesRead: 0, size: 0 };
  const cursor: Cursor = { position, result, batches: undefined, batch: [], i: 0, key: '', done: false };
  try {
    result.size = position.size = (await stat(path)).size;
    result.gzip = await isGzip(path);
  } catch (err) {
    result.truncated = err instanceof Error ? err.message : String(err);
    cursor.done = true;
    return cursor;
  }
  cursor.batches = batchesOf(path, result.gzip, cursor);
  await refill(cursor);
  if (!cursor.done) cursor.key = mergeKey(cursor.batch[0] ?? '', '');
  return cursor;
}

/** Calls `onLine` for every line of every file, merged in time order. Damage is reported per file, never thrown. */
export async function mergeLines(paths: readonly string[], onLine: LineHandler): Promise<FileResult[]> {
  const cursors = await Promise.all(paths.map((p, i) => open(p, i, paths.length)));
  let active = cursors.filter((c) => !c.done);
  while (active.length > 0) {
    let best = active[0] as Cursor;
    for (const c of active) if (c.key < best.key) best = c;
    // Take lines from the earliest file until it passes the next-earliest one.
    let bound: string | undefined;
    for (const c of active) if (c !== best && (bound === undefined || c.key < bound)) bound = c.key;
    for (;;) {
      const line = best.batch[best.i++] ?? '';
      best.result.lines++;
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line, best.position);
      if (best.i >= best.batch.length) {
        await refill(best);
        if (best.done) break;
      }
      if (bound === undefined) continue;
      best.key = mergeKey(best.batch[best.i] ?? '', best.key);
      if (best.key > bound) break;
    }
    if (best.done) active = active.filter((c) => !c.done);
  }
  return cursors.map((c) => c.result);
}

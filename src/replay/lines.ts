import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { constants as zlibConstants, createGunzip } from 'node:zlib';

// Streams the lines of log files, plain or gzip (recognized by its magic bytes, not its name),
// calling a synchronous handler per line. Nothing but the current chunk and line is held, so
// memory does not grow with the file. A file that ends inside its gzip stream or cannot be read
// to the end is reported as truncated, never thrown: the lines before the damage still count.

export interface FilePosition {
  path: string;
  /** 0-based index of the file among those being read. */
  index: number;
  count: number;
  /** Bytes of the file (compressed, for gzip) read so far, and its size. */
  bytesRead: number;
  size: number;
}

export interface FileResult {
  path: string;
  lines: number;
  size: number;
  gzip: boolean;
  /** Why the file could not be read to its end, when it could not. */
  truncated: string | undefined;
}

export type LineHandler = (line: string, position: FilePosition) => void;

const GZIP_MAGIC = [0x1f, 0x8b];

export async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    await handle.close();
  }
}

async function readFileLines(path: string, index: number, count: number, onLine: LineHandler): Promise<FileResult> {
  const size = (await stat(path)).size;
  const gzip = await isGzip(path);
  const position: FilePosition = { path, index, count, bytesRead: 0, size };
  // 64 KiB chunks: each decoded chunk stays a young-generation string (larger ones go straight to
  // V8's large-object space, which only a full GC frees).
  const file = createReadStream(path, { highWaterMark: 64 * 1024 });
  file.on('data', (chunk) => {
    position.bytesRead += chunk.length;
  });
  // Z_SYNC_FLUSH: a log cut off mid-stream (rotation, copy in progress) yields what it holds.
  const source = gzip ? file.pipe(createGunzip({ finishFlush: zlibConstants.Z_SYNC_FLUSH })) : file;
  const rl = createInterface({ input: source, crlfDelay: Infinity, terminal: false });
  let lines = 0;
  let truncated: string | undefined;
  await new Promise<void>((resolve) => {
    const fail = (err: Error) => {
      truncated ??= err.message;
      rl.close();
    };
    // readline re-emits its input's errors on itself (Node 24): listen on all three.
    file.on('error', fail);
    source.on('error', fail);
    rl.on('error', fail);
    rl.on('line', (line) => {
      lines++;
      onLine(line, position);
    });
    rl.on('close', resolve);
  });
  file.destroy();
  return { path, lines, size, gzip, truncated };
}

/** Reads the files one after another, in the order given. */
export async function forEachLine(paths: readonly string[], onLine: LineHandler): Promise<FileResult[]> {
  const results: FileResult[] = [];
  for (const [index, path] of paths.entries()) results.push(await readFileLines(path, index, paths.length, onLine));
  return results;
}

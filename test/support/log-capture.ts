import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A debug-level pino logger whose every line lands in `lines`. */
export function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

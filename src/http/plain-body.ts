import type { IncomingMessage } from 'node:http';

// A request body read on node:http directly, for the requests that have the plain shape a known
// client sends (the apiserver's reviews, Alertmanager's notifications): a Content-Length within
// the route's limit, no transfer or content encoding. Anything else is left to the caller's
// express app, which answers it in full (chunked bodies, compression, the limit's 413).

const LENGTH = /^\d{1,10}$/;

/** What a body readBody found cut short is answered (400), as body-parser's request.aborted is. */
export const ABORTED = 'the request body was not received completely';

/** The body's length when the request has the plain shape; undefined otherwise. */
export function plainLength(req: IncomingMessage, limit: number): number | undefined {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined || h['content-encoding'] !== undefined) return undefined;
  const text = h['content-length'];
  if (text === undefined || !LENGTH.test(text)) return undefined;
  const length = Number(text);
  return length <= limit ? length : undefined;
}

/** One body as it arrives, settled once. A class: its methods are not closures made per request. */
class BodyReader {
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private settled = false;

  constructor(
    private readonly length: number,
    private readonly done: (body: Buffer | undefined) => void,
  ) {}

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.received += chunk.length;
  }

  /** The HTTP parser ends the body at Content-Length; anything else is a body cut short. */
  end(): void {
    const { chunks, received } = this;
    this.settle(received !== this.length ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
  }

  fail(): void {
    this.settle(undefined);
  }

  private settle(body: Buffer | undefined): void {
    if (this.settled) return;
    this.settled = true;
    this.done(body);
  }
}

/** Reads a body of `length` bytes; undefined when it was cut short (an abort, an error). */
export function readBody(req: IncomingMessage, length: number, done: (body: Buffer | undefined) => void): void {
  const reader = new BodyReader(length, done);
  req.on('data', (chunk: Buffer) => {
    reader.add(chunk);
  });
  req.on('end', () => {
    reader.end();
  });
  req.on('error', () => {
    reader.fail();
  });
  req.on('aborted', () => {
    reader.fail();
  });
}

/** The request's path without its query. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

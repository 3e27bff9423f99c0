import { Agent, request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReviewBody, ReviewKind } from './review-mix.js';

// An open-loop load generator: requests leave at fixed intended times whatever the answers do, and
// each latency runs from the intended send time to the end of the answer, so a server that stalls
// is charged for the requests that queued behind it (no coordinated omission). A share of the
// requests go on a fresh TLS connection (a handshake each); the rest share kept-alive connections.

export interface Target {
  port: number;
  path: string;
  /** The CA bundle the client trusts (PEM); read at each new connection, so it can change during a run. */
  ca: () => string;
}

export interface Sample {
  /** Intended send time, ms from the start of the run. */
  at: number;
  latencyMs: number;
  kind: ReviewKind;
  bytes: number;
  fresh: boolean;
  /** undefined: a valid answer echoing the uid. */
  failure?: string;
}

export interface OpenLoopOptions {
  target: Target;
  /** Requests per second at `t` ms from the start. */
  rate: (t: number) => number;
  durationMs: number;
  /** Ends the run early when it returns true. */
  until?: () => boolean;
  freshShare: number;
  next: () => ReviewBody;
  rand: () => number;
  timeoutMs?: number;
  /** Called at about every second of the run (e.g. to sample the server's memory); not awaited, so it never holds a send back. */
  tick?: (t: number) => unknown;
}

const HANDSHAKE = /SSL|TLS|CERT|certificate|handshake|self.signed|UNABLE_TO|ERR_TLS/i;

/** Classifies a request error: handshake (TLS) errors are named apart from other connection errors. */
export function failureOf(err: NodeJS.ErrnoException): string {
  return HANDSHAKE.test(`${err.code ?? ''} ${err.message}`) ? `handshake: ${err.code ?? err.message}` : `connection: ${err.code ?? err.message}`;
}

function send(target: Target, agent: Agent, body: ReviewBody, fresh: boolean, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        servername: 'localhost',
        path: target.path,
        method: 'POST',
        ...(fresh ? { agent: false, ca: target.ca(), headers: { 'content-type': 'application/json', 'content-length': body.bytes, connection: 'close' } } : { agent, headers: { 'content-type': 'application/json', 'content-length': body.bytes } }),
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => {
          resolve(failureOf(err));
        });
        res.on('end', () => {
          if (res.statusCode !== 200) {
            resolve(`HTTP ${String(res.statusCode)}`);
            return;
          }
          try {
            const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { response?: { uid?: unknown; allowed?: unknown } };
            resolve(answer.response?.uid === body.uid && typeof answer.response.allowed === 'boolean' ? undefined : 'an answer without the uid');
          } catch {
            resolve('an answer that is not JSON');
          }
        });
      },
    );
    req.on('timeout', () => {
      req.destroy(new Error(`no answer within ${String(timeoutMs)} ms`));
    });
    req.on('error', (err) => {
      resolve(failureOf(err));
    });
    for (const part of body.parts.slice(0, 2)) req.write(part);
    req.end(body.parts[2]);
  });
}

/** Keeps connections for the kept-alive share; recreated when the trusted bundle changes, as a client re-reading its caBundle would. */
function keptAlive(target: Target): () => Agent {
  let ca = target.ca();
  let agent = new Agent({ keepAlive: true, maxSockets: 64, ca });
  return () => {
    const now = target.ca();
    if (now !== ca) {
      const old = agent;
      ca = now;
      agent = new Agent({ keepAlive: true, maxSockets: 64, ca });
      // Connections in use finish their requests; idle ones close.
      setTimeout(() => {
        old.destroy();
      }, 30_000).unref();
    }
    return agent;
  };
}

export async function openLoop(opts: OpenLoopOptions): Promise<Sample[]> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const agentFor = keptAlive(opts.target);
  const samples: Sample[] = [];
  const inflight = new Set<Promise<void>>();
  const began = performance.now();
  let due = 0;
  let nextTick = 1000;
  while (due < opts.durationMs && opts.until?.() !== true) {
    const now = performance.now() - began;
    while (due <= now && due < opts.durationMs) {
      const at = due;
      const body = opts.next();
      const fresh = opts.rand() < opts.freshShare;
      const p = send(opts.target, agentFor(), body, fresh, timeoutMs).then((failure) => {
        samples.push({ at, latencyMs: performance.now() - began - at, kind: body.kind, bytes: body.bytes, fresh, ...(failure === undefined ? {} : { failure }) });
        inflight.delete(p);
      });
      inflight.add(p);
      due += 1000 / Math.max(1, opts.rate(due));
    }
    if (now >= nextTick) {
      nextTick += 1000;
      opts.tick?.(now);
    }
    await sleep(Math.max(0, Math.min(due - (performance.now() - began), 5)));
  }
  await Promise.all(inflight);
  agentFor().destroy();
  return samples;
}

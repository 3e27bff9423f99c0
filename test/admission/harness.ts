import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import fjp from 'fast-json-patch';
import { pino } from 'pino';
import { expect } from 'vitest';
import { resolver, DEFAULT_POLICY_SET, type PolicySet } from '../../src/policy/policy-file.js';
import type { ReviewResponse } from '../../src/admission/response.js';
import { startWebhookServer, type WebhookServer } from '../../src/admission/server.js';
import type { Policy } from '../../src/core/policy.js';
import type { PolicyObjectsSource, StampSource } from '../../src/admission/review-inputs.js';
import { InMemoryStampCache } from '../../src/stamps/stamp-cache.js';
import { ensureCertificates } from '../../src/certs/store.js';

// A real webhook over HTTPS with certificates made by rollguard's own `certs` code, its log lines
// captured, and helpers that check every answer against the AdmissionReview contract.

const FIXTURES = fileURLToPath(new URL('../fixtures/admission/', import.meta.url));

export type Review = {
  apiVersion: string;
  kind: string;
  request: {
    uid: string;
    operation: string;
    name?: string;
    namespace?: string;
    userInfo?: { username?: string };
    object: Record<string, unknown> | null;
    oldObject: Record<string, unknown> | null;
    [k: string]: unknown;
  };
};

/** A fresh copy of a fixture on every call, so tests never share mutations. */
export async function fixture(name: string): Promise<Review> {
  return JSON.parse(await readFile(join(FIXTURES, `${name}.json`), 'utf8')) as Review;
}

export interface TestWebhook {
  server: WebhookServer;
  ca: string;
  dir: string;
  certFile: string;
  keyFile: string;
  logs: string[];
  cache: InMemoryStampCache;
  setNow(ms: number): void;
  post(path: string, body: string | Buffer | object, headers?: Record<string, string>): Promise<{ status: number; text: string; json: unknown }>;
  review(path: '/mutate' | '/validate', review: Review): Promise<ReviewResponse>;
  get(path: string, port?: number): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

export async function startTestWebhook(opts: {
  now: number;
  cache?: StampSource;
  policies?: PolicySet;
  /** Replaces the policies' resolver (e.g. one that answers late). */
  policyFor?: (namespace: string) => Policy | Promise<Policy>;
  policyObjects?: PolicyObjectsSource;
  deadlineMs?: number;
  trustedUsers?: string[];
  ownNamespace?: string;
  reloadIntervalMs?: number;
  healthPort?: boolean;
}): Promise<TestWebhook> {
  const dir = await mkdtemp(join(tmpdir(), 'rollguard-webhook-'));
  const certs = await ensureCertificates({ outDir: dir, names: ['localhost', '127.0.0.1'], days: 30, now: Date.now() });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const memory = new InMemoryStampCache();
  let now = opts.now;
  const server = await startWebhookServer({
    host: '127.0.0.1',
    port: 0,
    ...(opts.healthPort === true ? { healthPort: 0 } : {}),
    tlsCertFile: certs.paths.cert,
    tlsKeyFile: certs.paths.key,
    reloadIntervalMs: opts.reloadIntervalMs ?? 50,
    logger,
    clock: () => now,
    ...(opts.deadlineMs === undefined ? {} : { deadlineMs: opts.deadlineMs }),
    // The test process is client and server at once: its event loop's load is the test's, so the
    // shedder is fed by hand (server.shedder.sample) where a test wants it.
    shedTimer: false,
    ...(opts.policyObjects === undefined ? {} : { policies: opts.policyObjects }),
    mutate: {
      cache: opts.cache ?? memory,
      policyFor: opts.policyFor ?? resolver(opts.policies ?? DEFAULT_POLICY_SET),
      trustedUsers: new Set(opts.trustedUsers ?? ['system:serviceaccount:rollguard:rollguard-agent']),
      ownNamespace: opts.ownNamespace ?? 'rollguard',
    },
  });
  const agent = new Agent({ ca: certs.caPem, keepAlive: true, maxSockets: 4 });
  const post: TestWebhook['post'] = (path, body, headers = {}) =>
    new Promise((resolve, reject) => {
      const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      const req = request(
        { host: '127.0.0.1', servername: 'localhost', port: server.port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, text, json });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const get: TestWebhook['get'] = async (path, port) => {
    if (port !== undefined) {
      const res = await fetch(`http://127.0.0.1:${String(port)}${path}`);
      return { status: res.status, text: await res.text() };
    }
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', servername: 'localhost', port: server.port, path, method: 'GET', agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.on('error', reject);
      req.end();
    });
  };
  return {
    server,
    ca: certs.caPem,
    dir,
    certFile: certs.paths.cert,
    keyFile: certs.paths.key,
    logs,
    cache: memory,
    setNow(ms) {
      now = ms;
    },
    post,
    get,
    async review(path, review) {
      const res = await post(path, review);
      expect(res.status, res.text).toBe(200);
      const answer = res.json as ReviewResponse;
      expectContract(review, answer);
      return answer;
    },
    async close() {
      agent.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function decodePatch(answer: ReviewResponse): fjp.Operation[] {
  if (answer.response.patch === undefined) return [];
  return JSON.parse(Buffer.from(answer.response.patch, 'base64').toString('utf8')) as fjp.Operation[];
}

/** The object after applying the answer's patch to request.object as sent. */
export function patched(review: Review, answer: ReviewResponse): Record<string, unknown> {
  const object = structuredClone(review.request.object) as Record<string, unknown>;
  return fjp.applyPatch(object, decodePatch(answer), true, false).newDocument;
}

export function annotationsAfter(review: Review, answer: ReviewResponse): Record<string, string> {
  const meta = patched(review, answer).metadata as { annotations?: Record<string, string> } | undefined;
  return meta?.annotations ?? {};
}

/** The AdmissionReview v1 contract, checked on every answer. */
export function expectContract(review: Review, answer: ReviewResponse): void {
  expect(answer.apiVersion).toBe(review.apiVersion);
  expect(answer.kind).toBe('AdmissionReview');
  expect(answer.response.uid).toBe(review.request.uid);
  expect(typeof answer.response.allowed).toBe('boolean');
  if (answer.response.patch !== undefined) {
    expect(answer.response.patchType).toBe('JSONPatch');
    expect(review.request.operation).not.toBe('DELETE');
    const ops = decodePatch(answer);
    expect(ops.length).toBeGreaterThan(0);
    for (const op of ops) expect(op.path.startsWith('/metadata/managedFields')).toBe(false);
    // Applies cleanly (validated) to the object exactly as sent.
    expect(() => patched(review, answer)).not.toThrow();
  } else {
    expect(answer.response.patchType).toBeUndefined();
  }
  if (!answer.response.allowed) {
    expect(answer.response.status?.code).toBeGreaterThanOrEqual(400);
    expect(answer.response.status?.message.length).toBeGreaterThan(0);
  }
}

/** Resends a review whose object is what the apiserver stored after our patch (reinvocation). */
export function reinvocation(review: Review, answer: ReviewResponse): Review {
  return { ...review, request: { ...review.request, object: patched(review, answer) } };
}

/** Sets `value` at a random path inside `root` (a deep copy), creating nothing new above it. */
export function mutateAt(root: unknown, steps: readonly number[], value: unknown): unknown {
  const copy = structuredClone(root);
  let node: unknown = copy;
  for (const step of steps) {
    if (node === null || typeof node !== 'object') break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = keys[step % keys.length] as string;
    const child = (node as Record<string, unknown>)[key];
    if (child === null || typeof child !== 'object' || step % 5 === 0) {
      (node as Record<string, unknown>)[key] = value;
      return copy;
    }
    node = child;
  }
  return copy;
}

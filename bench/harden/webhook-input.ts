import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { Pool } from 'undici';
import { createApp } from '../../src/admission/app.js';
import { createMetrics } from '../../src/admission/metrics.js';
import { DEFAULT_POLICY_SET, resolver } from '../../src/policy/policy-file.js';
import { REVIEW_VERSIONS } from '../../src/admission/review.js';
import { webhookHandlers } from '../../src/admission/server.js';
import { InMemoryStampCache } from '../../src/stamps/stamp-cache.js';
import { mutate, type Mutation } from './mutations.js';
import { rng as seeded } from '../../test/support/metric-scenarios.js';
import { quantile } from '../stats.js';
import { count, type HardenPart, type HardenRow } from './table.js';

// Hostile input for the webhook: mutated AdmissionReviews (from the test fixtures) through the real
// HTTP handler (createApp with the real mutate/validate handlers, served by node:http on 127.0.0.1;
// TLS is left out so the figures are the handler's, not the handshake's). Every answer must be a
// valid AdmissionReview echoing the uid, or a precise 4xx Status; nothing may crash.

const FIXTURE_DIR = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'admission');
const CONCURRENCY = 16;

function uidOf(body: Buffer): string | undefined {
  try {
    const uid = (JSON.parse(body.toString('utf8')) as { request?: { uid?: unknown } }).request?.uid;
    return typeof uid === 'string' ? uid : undefined;
  } catch {
    return undefined;
  }
}

type Verdict = 'review' | 'precise-4xx' | 'invalid';

function judge(status: number, text: string, sent: Buffer): Verdict {
  try {
    return judgeJson(status, JSON.parse(text) as Record<string, unknown>, sent);
  } catch {
    return 'invalid';
  }
}

function judgeJson(status: number, json: Record<string, unknown>, sent: Buffer): Verdict {
  if (status === 200) {
    const response = json.response as { uid?: unknown; allowed?: unknown; patch?: unknown } | undefined;
    const ok =
      (REVIEW_VERSIONS as readonly unknown[]).includes(json.apiVersion) &&
      json.kind === 'AdmissionReview' &&
      typeof response?.allowed === 'boolean' &&
      response.uid === uidOf(sent) &&
      (response.patch === undefined || (typeof response.patch === 'string' && Array.isArray(JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')))));
    return ok ? 'review' : 'invalid';
  }
  const precise = status >= 400 && status < 500 && json.kind === 'Status' && json.code === status && typeof json.message === 'string' && json.message.length > 10;
  return precise ? 'precise-4xx' : 'invalid';
}

export function webhookHostileInput(opts: { total: number; seed?: number }): HardenPart {
  return {
    name: 'webhook: hostile input',
    async run({ short }): Promise<HardenRow> {
      const total = short ? Math.min(opts.total, 3000) : opts.total;
      const rand = seeded(opts.seed ?? 17);
      const docs = readdirSync(FIXTURE_DIR)
        .filter((f) => f.endsWith('.json'))
        .map((f) => {
          const text = readFileSync(join(FIXTURE_DIR, f), 'utf8');
          return { text: JSON.stringify(JSON.parse(text)), doc: JSON.parse(text) as Record<string, unknown> };
        });
      let crashes = 0;
      const onCrash = (): void => {
        crashes++;
      };
      process.on('uncaughtException', onCrash);
      process.on('unhandledRejection', onCrash);
      const app = createApp({
        handlers: webhookHandlers({ cache: new InMemoryStampCache(), policyFor: resolver(DEFAULT_POLICY_SET), trustedUsers: new Set(), ownNamespace: 'rollguard' }),
        logger: pino({ level: 'silent' }),
        metrics: createMetrics(),
        clock: () => Date.parse('2026-03-02T10:05:00Z'),
        ready: () => ({ ready: true, reason: 'ready' }),
      });
      const server = createServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const pool = new Pool(`http://127.0.0.1:${String((server.address() as AddressInfo).port)}`, { connections: CONCURRENCY });
      const latencies = new Float64Array(total);
      const verdicts: Record<Verdict, number> = { review: 0, 'precise-4xx': 0, invalid: 0 };
      const byKind = new Map<Mutation, number>();
      const statuses = new Map<number, number>();
      let errors = 0;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < total) {
          const i = next++;
          const { doc, text } = docs[Math.floor(rand() * docs.length)] as { doc: Record<string, unknown>; text: string };
          const m = mutate(doc, text, rand, { oversizedEvery: short ? 500 : 2000, oversizedBytes: 4 * 1024 * 1024, deepEvery: 50 });
          byKind.set(m.kind, (byKind.get(m.kind) ?? 0) + 1);
          const path = rand() < 0.7 ? '/mutate' : '/validate';
          const start = performance.now();
          try {
            const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: m.body });
            const text = await res.body.text();
            latencies[i] = performance.now() - start;
            statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
            verdicts[judge(res.statusCode, text, m.body)]++;
          } catch {
            latencies[i] = performance.now() - start;
            errors++;
          }
        }
      };
      const began = performance.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const seconds = (performance.now() - began) / 1000;
      await pool.close();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
      const lost: string[] = [];
      if (crashes > 0) lost.push(`${count(crashes)} crashes`);
      if (errors > 0) lost.push(`${count(errors)} requests without an answer`);
      if (verdicts.invalid > 0) lost.push(`${count(verdicts.invalid)} answers neither a valid AdmissionReview nor a precise 4xx`);
      const p99 = quantile(latencies, 0.99);
      // Issue 17's bound, for the full run only: a short run on a shared machine says nothing of it.
      if (!short && p99 >= 50) lost.push(`p99 ${p99.toFixed(1)} ms, over the 50 ms bound`);
      const kinds = [...byKind].sort().map(([k, n]) => `${k} ${count(n)}`).join(', ');
      const codes = [...statuses].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${String(c)}: ${count(n)}`).join(', ');
      return {
        part: this.name,
        held: `${count(crashes)} crashes; ${count(verdicts.review)} valid AdmissionReviews (uid echoed), ${count(verdicts['precise-4xx'])} precise 4xx (${codes}); p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${quantile(latencies, 1).toFixed(0)} ms at ${String(CONCURRENCY)} in flight (${(total / seconds).toFixed(0)}/s)`,
        tried: `${count(total)} mutated AdmissionReviews over loopback HTTP (in-process server, no TLS) to /mutate and /validate: ${kinds}`,
        lost,
      };
    },
  };
}

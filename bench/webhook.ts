import { fork, type ChildProcess } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:https';
import { cpus, tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { DEFAULT_POLICY_SET, resolver } from '../src/policy/policy-file.js';
import type { Deployment } from '../src/core/kube.js';
import { startWebhookServer } from '../src/admission/server.js';
import { InMemoryStampCache } from '../src/stamps/stamp-cache.js';
import { ensureCertificates } from '../src/certs/store.js';
import { reportIdle } from './idle.js';

// `npm run bench:webhook`: POST /mutate with a ~10 KB Deployment UPDATE review against rollguard's
// webhook, and in the same run a bare node:https server with the same TLS and payload that answers
// a fixed allow response. The servers run in a child process so the load generator does not share
// their event loop. Targets: ≥ 0.7× the baseline's throughput, p99 ≤ 5 ms at 500 requests/s.

const FIXTURE = fileURLToPath(new URL('../test/fixtures/admission/deployment-update-image.json', import.meta.url));
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 16;

interface Ports {
  rollguard: number;
  baseline: number;
  parsing: number;
  ca: string;
}

/** The review: the kubectl-apply fixture, its container given the env list of a typical service (~10 KB). */
async function payload(): Promise<string> {
  const review = JSON.parse(await readFile(FIXTURE, 'utf8')) as { request: { object: Deployment; oldObject: Deployment } };
  const env = Array.from({ length: 19 }, (_, i) => ({ name: `CHECKOUT_SETTING_${String(i)}`, value: `value-${String(i)}-${'x'.repeat(24)}` }));
  for (const d of [review.request.object, review.request.oldObject]) {
    const container = d.spec?.template?.spec?.containers?.[0];
    if (container) container.env = [...(container.env ?? []), ...env];
  }
  return JSON.stringify(review);
}

async function serve(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rollguard-bench-'));
  const certs = await ensureCertificates({ outDir: dir, names: ['localhost', '127.0.0.1'], days: 1, now: Date.now() });
  const cache = new InMemoryStampCache();
  const stamped = { createdAt: Date.parse('2026-01-01T00:00:00Z'), contentChangedAt: Date.parse('2026-01-01T00:00:00Z') };
  for (const [kind, name] of [['ConfigMap', 'checkout-config-7f9c'], ['Secret', 'checkout-db'], ['Secret', 'checkout-tls']] as const) cache.noteAdmitted('shop', kind, name, stamped);
  const server = await startWebhookServer({
    host: '127.0.0.1',
    port: 0,
    tlsCertFile: certs.paths.cert,
    tlsKeyFile: certs.paths.key,
    logger: pino({ level: 'info' }, pino.destination('/dev/null')),
    mutate: { cache, policyFor: resolver(DEFAULT_POLICY_SET), trustedUsers: new Set(), ownNamespace: 'rollguard' },
  });
  const fixed = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'fixed', allowed: true } });
  const tls = { cert: await readFile(certs.paths.cert), key: await readFile(certs.paths.key), minVersion: 'TLSv1.2' as const };
  // The baseline the issue asks for (read the body, fixed answer), and a reference that also
  // parses the body: what any webhook that reads the review must pay at least.
  const bare = (parse: boolean) =>
    createServer(tls, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (parse) JSON.parse(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' }).end(fixed);
      });
    });
  const baseline = bare(false);
  const parsing = bare(true);
  for (const s of [baseline, parsing]) {
    s.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  }
  const ports: Ports = { rollguard: server.port, baseline: (baseline.address() as AddressInfo).port, parsing: (parsing.address() as AddressInfo).port, ca: certs.caPem };
  process.send?.(ports);
  process.on('disconnect', () => {
    baseline.close();
    parsing.close();
    void server.close().then(() => rm(dir, { recursive: true, force: true })).then(() => process.exit(0));
  });
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

/** Maximum throughput, closed loop (autocannon). */
async function load(port: number, path: string, body: string): Promise<Figures> {
  const result = await autocannon({
    url: `https://127.0.0.1:${String(port)}${path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    duration: DURATION_S,
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx + result.errors };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * Latency at a steady rate, open loop: one request every 1000/rate ms whatever the answers do, timed
 * with hrtime. (autocannon's rate limit releases each second's quota at once, which measures its
 * own bursts rather than the server.)
 */
async function paced(port: number, path: string, body: string, agent: Agent, rate: number): Promise<Figures> {
  const latencies: number[] = [];
  let failed = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const start = process.hrtime.bigint();
      const req = request({ host: '127.0.0.1', port, path, method: 'POST', servername: 'localhost', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) failed++;
          latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
          resolve();
        });
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end(body);
    });
  const total = rate * DURATION_S;
  const interval = 1000 / rate;
  const began = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = began + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    else if (wait > 0) await new Promise((r) => setImmediate(r));
    inflight.push(one());
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - began) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  return { rps: latencies.length / elapsed, p50: percentile(sorted, 50), p99: percentile(sorted, 99), non2xx: failed };
}

function line(label: string, f: Figures): string {
  return `${label.padEnd(40)} ${f.rps.toFixed(0).padStart(7)} req/s   p50 ${f.p50.toFixed(2).padStart(6)} ms   p99 ${f.p99.toFixed(2).padStart(6)} ms${f.non2xx > 0 ? `   (${String(f.non2xx)} errors/non-2xx)` : ''}`;
}

async function main(): Promise<void> {
  const body = await payload();
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ports = await new Promise<Ports>((resolve) => child.once('message', (m) => { resolve(m as Ports); }));
  try {
    process.stdout.write(`payload: ${(Buffer.byteLength(body) / 1024).toFixed(1)} KB Deployment UPDATE review (template change, stamped config); TLS 1.3, ${String(CONNECTIONS)} connections, ${String(DURATION_S)} s per run, node ${process.version}, ${String(cpus().length)} CPUs shared by client and servers\n`);
    // Warm up (JIT, TLS connections kept open by the agents for the measured runs).
    const agents = { rollguard: new Agent({ keepAlive: true, maxSockets: CONNECTIONS, ca: ports.ca }), baseline: new Agent({ keepAlive: true, maxSockets: CONNECTIONS, ca: ports.ca }) };
    await paced(ports.rollguard, '/mutate', body, agents.rollguard, 300);
    await paced(ports.baseline, '/', body, agents.baseline, 300);
    const base = await load(ports.baseline, '/', body);
    const parse = await load(ports.parsing, '/', body);
    const rg = await load(ports.rollguard, '/mutate', body);
    const base500 = await paced(ports.baseline, '/', body, agents.baseline, 500);
    const rg500 = await paced(ports.rollguard, '/mutate', body, agents.rollguard, 500);
    agents.rollguard.destroy();
    agents.baseline.destroy();
    process.stdout.write('max throughput (autocannon, closed loop):\n');
    process.stdout.write(`  ${line('baseline node:https, fixed allow', base)}\n  ${line('reference: node:https + JSON.parse', parse)}\n  ${line('rollguard /mutate', rg)}\n`);
    process.stdout.write('steady 500 req/s (open loop, hrtime):\n');
    process.stdout.write(`  ${line('baseline node:https, fixed allow', base500)}\n  ${line('rollguard /mutate', rg500)}\n`);
    process.stdout.write(`throughput ratio rollguard/baseline: ${(rg.rps / base.rps).toFixed(2)}x (target >= 0.70x); rollguard/parse-only reference: ${(rg.rps / parse.rps).toFixed(2)}x\n`);
    process.stdout.write(`p99 at 500 req/s: ${rg500.p99.toFixed(2)} ms (target <= 5 ms)\n`);
  } finally {
    child.disconnect();
  }
  await reportIdle(['webhook'], (l) => process.stdout.write(`${l}\n`));
}

if (process.argv.includes('--serve')) await serve();
else await main();

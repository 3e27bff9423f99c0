// `npm run bench:idle`: the idle RSS of the two long-running processes on the real control plane
// of ../shared/k8s (empty cluster, rollguard's CRDs installed), as a Pod runs them: the image's
// program (scripts/bundle.ts, the esbuild bundle the Dockerfile builds), the service-account
// mount (no kubeconfig, so no client-node), the chart's NODE_OPTIONS. RSS is sampled from /proc
// every 250 ms for 45 s after /readyz, without a forced GC, and the figure is the median of the
// last 15 s: what the kubelet and the OOM killer see once the process has settled (sampled for two
// minutes, the agent grew 1.5 MB in its first 45 s and then held). Baseline, same run and same
// NODE_OPTIONS: a bare `node -e` HTTP server that has answered one request, and the floor of any
// process that serves HTTPS and talks TLS, as the webhook does and the agent (a TLS client of the
// apiserver) nearly does: a bare HTTPS server that has answered one request of its own over TLS.
// Target: each process ≤ 60 MB.
//
//   npm run bench:idle   (bench:webhook prints the webhook's figure through reportIdle)

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCertificates } from '../src/certs/store.js';
import { KubeRest } from '../src/kube/rest.js';
import { adminControlPlane } from '../test/support/control-plane-admin.js';
import type { ControlPlaneFacts } from '../test/support/control-plane-context.js';
import { ENABLE_HINT, launchControlPlane, locateControlPlane } from '../test/support/control-plane-launch.js';
import { freePort, httpOk, startProcess, type ManagedProcess } from '../test/support/process.js';
import { installRollguardCrds } from '../test/support/rollguard-crds.js';
import { podMountPossible, POD_WRAPPER, procSample, startPrometheusStub } from './agent-process.js';
import { chartContainer } from './chart-node-options.js';
import { buildBundle, imageEnv } from './image-bundle.js';
import { median } from './stats.js';

export const IDLE_TARGET_MB = 60;
const WINDOW_MS = 45_000;
/** The figure is read from the samples after this: the first seconds after /readyz read low. */
const SETTLED_AFTER_MS = 30_000;
const ROOT = join(import.meta.dirname, '..');

/** A serving pair and its CA, as files. */
interface CertPaths {
  cert: string;
  key: string;
  ca: string;
}

export interface IdleFigure {
  /** Median RSS over the window's settled end, MB, as it runs. */
  rssMb: number;
  /** Median RSS over the first 5 s after /readyz, MB: where the process starts from. */
  firstMb: number;
  maxMb: number;
}

async function sampleIdle(p: ManagedProcess): Promise<IdleFigure> {
  const samples: { at: number; mb: number }[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < WINDOW_MS) {
    samples.push({ at: performance.now() - t0, mb: procSample(p.pid).rssMb });
    await new Promise((r) => setTimeout(r, 250));
  }
  const between = (from: number, to: number): number => median(samples.filter((s) => s.at >= from && s.at < to).map((s) => s.mb));
  return { rssMb: between(SETTLED_AFTER_MS, WINDOW_MS), firstMb: between(0, 5000), maxMb: Math.max(...samples.map((s) => s.mb)) };
}

/** A node process as a Pod runs it: the service-account files mounted where a Pod has them (namespace `namespace`). */
function inPod(facts: ControlPlaneFacts, namespace: string, nodeArgs: readonly string[], nodeOptions: string): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const server = new URL(facts.apiserverUrl);
  const env = { ...process.env, ...imageEnv(), KUBECONFIG: '', NODE_OPTIONS: nodeOptions, KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port, ROLLGUARD_POD_CA: facts.caFile, ROLLGUARD_POD_TOKEN: facts.adminToken, ROLLGUARD_POD_NAMESPACE: namespace };
  return { command: 'unshare', args: ['-m', 'sh', '-c', POD_WRAPPER, 'sh', process.execPath, ...nodeArgs], env };
}

async function idleProcess(name: string, spawn: { command: string; args: string[]; env: NodeJS.ProcessEnv }, readyz: string): Promise<IdleFigure> {
  const p = await startProcess({ name, ...spawn, cwd: ROOT, ready: () => httpOk(readyz), timeoutMs: 120_000 });
  try {
    return await sampleIdle(p);
  } finally {
    await p.stop();
  }
}

/** `node -e code` in the image's environment under the given NODE_OPTIONS. */
function bareNode(code: string, nodeOptions: string): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  return { command: process.execPath, args: ['-e', code], env: { ...process.env, ...imageEnv(), NODE_OPTIONS: nodeOptions } };
}

/** A bare node:http server under the same NODE_OPTIONS, after one request: the floor. */
export async function measureBaseline(nodeOptions: string): Promise<IdleFigure> {
  const port = await freePort();
  const code = `require('node:http').createServer((q, s) => s.end('ok')).listen(${String(port)}, '127.0.0.1')`;
  return idleProcess('bare node server', bareNode(code, nodeOptions), `http://127.0.0.1:${String(port)}/`);
}

/**
 * A bare node:https server (a certificate of `rollguard certs`) that has answered one request over
 * TLS from its own node:https client, under the same NODE_OPTIONS; readiness on a node:http server,
 * listening only once that round trip is done.
 */
export async function measureTlsBaseline(nodeOptions: string, certs: CertPaths): Promise<IdleFigure> {
  const [port, readyPort] = [await freePort(), await freePort()];
  const read = (file: string) => `fs.readFileSync(${JSON.stringify(file)})`;
  const code =
    `const fs = require('node:fs'), https = require('node:https'), http = require('node:http');` +
    `https.createServer({ cert: ${read(certs.cert)}, key: ${read(certs.key)} }, (q, s) => s.end('ok')).listen(${String(port)}, '127.0.0.1', () => {` +
    `https.get({ host: '127.0.0.1', port: ${String(port)}, servername: 'localhost', ca: ${read(certs.ca)} }, (r) => { r.resume(); r.on('end', () => http.createServer((q, s) => s.end('ok')).listen(${String(readyPort)}, '127.0.0.1')); });` +
    `});`;
  return idleProcess('bare node https server', bareNode(code, nodeOptions), `http://127.0.0.1:${String(readyPort)}/`);
}

/** `rollguard webhook` from the build `main`, in a Pod's form, watching ConfigMaps/Secrets of the empty cluster. */
export async function measureWebhookIdle(facts: ControlPlaneFacts, main: string, nodeOptions: string, certs: CertPaths): Promise<IdleFigure> {
  const [port, healthPort] = [await freePort(), await freePort()];
  const args = [main, 'webhook', '--host', '127.0.0.1', '--port', String(port), '--health-port', String(healthPort), '--tls-cert', certs.cert, '--tls-key', certs.key];
  return idleProcess('rollguard webhook', inPod(facts, 'rollguard-idle', args, nodeOptions), `http://127.0.0.1:${String(healthPort)}/readyz`);
}

export async function measureAgentIdle(facts: ControlPlaneFacts, main: string, nodeOptions: string): Promise<IdleFigure> {
  const stub = await startPrometheusStub();
  try {
    const port = await freePort();
    const args = [main, 'agent', '--prometheus', stub.url, '--namespace', 'rollguard-idle', '--id', 'idle', '--host', '127.0.0.1', '--port', String(port)];
    return await idleProcess('rollguard agent', inPod(facts, 'rollguard-idle', args, nodeOptions), `http://127.0.0.1:${String(port)}/readyz`);
  } finally {
    await stub.stop();
  }
}

export const idleLine = (label: string, f: IdleFigure, baseline: IdleFigure, tls: IdleFigure): string =>
  `${label}: idle RSS ${f.rssMb.toFixed(1)} MB as it runs (${f.firstMb.toFixed(1)} MB in the first 5 s, max ${f.maxMb.toFixed(1)}), ${(f.rssMb - baseline.rssMb).toFixed(1)} MB over the bare HTTP server, ${(f.rssMb - tls.rssMb).toFixed(1)} MB over the bare HTTPS one; goal ≤ ${String(IDLE_TARGET_MB)} MB: ${f.rssMb <= IDLE_TARGET_MB ? 'met' : 'NOT met'}`;

/**
 * Starts a control plane and prints the idle RSS of each named process beside its baseline;
 * false when a goal is not met. `--main FILE` on the command line runs that build instead (e.g. a tsc build's dist/src/cli/main.js).
 */
export async function reportIdle(names: readonly ('agent' | 'webhook')[], say: (line: string) => void): Promise<boolean> {
  const located = locateControlPlane();
  if (!located.ok) {
    say(`idle RSS skipped: no Kubernetes control plane (${located.reason}); to run it, ${ENABLE_HINT}`);
    return true;
  }
  if (!podMountPossible()) {
    say("idle RSS skipped: this machine cannot give a process a Pod's service-account mount (needs unshare -m as root)");
    return true;
  }
  const i = process.argv.indexOf('--main');
  const given = i >= 0 ? process.argv[i + 1] : undefined;
  const built = given !== undefined ? { main: given, remove: async () => {} } : await buildBundle('bench-idle-bundle');
  const launched = await launchControlPlane(located);
  // One serving pair, for the webhook and the bare HTTPS server alike.
  const certDir = await mkdtemp(join(tmpdir(), 'rollguard-idle-'));
  let ok = true;
  try {
    const { paths } = await ensureCertificates({ outDir: certDir, names: ['localhost', '127.0.0.1'], days: 1, now: Date.now() });
    const certs: CertPaths = { cert: paths.cert, key: paths.key, ca: paths.caCert };
    const admin = new KubeRest(adminControlPlane(launched.facts).kubeConfig);
    await installRollguardCrds(admin);
    await admin.create('/api/v1/namespaces', { metadata: { name: 'rollguard-idle' } });
    say(`idle RSS (empty cluster, sampled as it runs for ${String(WINDOW_MS / 1000)} s after /readyz, the median from ${String(SETTLED_AFTER_MS / 1000)} s on, no forced GC): ${given ?? "the image's bundle"} as a Pod runs it (service-account mount, the chart's NODE_OPTIONS)`);
    for (const name of names) {
      const { nodeOptions } = await chartContainer(name);
      const baseline = await measureBaseline(nodeOptions);
      const tls = await measureTlsBaseline(nodeOptions, certs);
      const figure = await (name === 'agent' ? measureAgentIdle(launched.facts, built.main, nodeOptions) : measureWebhookIdle(launched.facts, built.main, nodeOptions, certs));
      say(`  NODE_OPTIONS="${nodeOptions}"; baselines, same run: a bare \`node -e\` HTTP server ${baseline.rssMb.toFixed(1)} MB; a bare HTTPS server that has answered its own TLS request ${tls.rssMb.toFixed(1)} MB`);
      say(`  ${idleLine(name, figure, baseline, tls)}`);
      ok = ok && figure.rssMb <= IDLE_TARGET_MB;
    }
  } finally {
    await launched.stop();
    await built.remove();
    await rm(certDir, { recursive: true, force: true });
  }
  return ok;
}

if (import.meta.filename === process.argv[1]) process.exitCode = (await reportIdle(['agent', 'webhook'], (line) => process.stdout.write(`${line}\n`))) ? 0 : 1;

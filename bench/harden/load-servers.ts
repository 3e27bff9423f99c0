import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { get } from 'node:https';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { startProcess, withFreePorts, type ManagedProcess } from '../../test/support/process.js';
import { statusKb } from '../agent-process.js';
import { chartContainer } from '../chart-node-options.js';
import { buildBundle, imageEnv } from '../image-bundle.js';

// The servers under load, each in its own process (the generator runs in the harden process):
// `rollguard webhook` itself (--no-kube: no cluster to watch, so every Deployment is stamped with
// an unknown change set) and the bare node:https echo server. The webhook runs as its Pod runs it:
// the image's bundle, the image's environment and the chart's NODE_OPTIONS (V8's heap sized to
// the container); the echo server gets the same environment and V8 options.

const ROOT = join(import.meta.dirname, '..', '..');

export interface ServerUnderLoad {
  name: string;
  process: ManagedProcess;
  port: number;
  path: string;
  /** The webhook's plain-HTTP health/metrics port. */
  healthPort?: number;
  /** Event-loop delay p99 (ms) since the previous call, as the server measures it (10 ms resolution); undefined when unread. */
  eventLoopP99(): Promise<number | undefined>;
}

const tsx = (script: string, args: string[]): string[] => ['--import', 'tsx', join(ROOT, script), ...args];

interface PodRuntime {
  main: string;
  env: NodeJS.ProcessEnv;
}

let runtime: Promise<PodRuntime> | undefined;

/** The bundle is built once per run and removed when the run's process exits. */
function podRuntime(): Promise<PodRuntime> {
  runtime ??= (async () => {
    const [bundle, { nodeOptions }] = await Promise.all([buildBundle(`harden-bundle-${String(process.pid)}`), chartContainer('webhook')]);
    process.once('exit', () => {
      rmSync(dirname(bundle.main), { recursive: true, force: true });
    });
    return { main: bundle.main, env: { ...process.env, ...imageEnv(), NODE_OPTIONS: nodeOptions } };
  })();
  return runtime;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => {
      resolve(false);
    });
  });
}

export function startRollguard(tls: { cert: string; key: string }, extra: string[] = []): Promise<ServerUnderLoad> {
  return withFreePorts(2, async ([port, healthPort]) => {
    const args = ['webhook', '--no-kube', '--host', '127.0.0.1', '--port', String(port), '--health-port', String(healthPort), '--tls-cert', tls.cert, '--tls-key', tls.key, ...extra];
    const pod = await podRuntime();
    const proc = await startProcess({
      name: 'rollguard webhook',
      command: process.execPath,
      args: [pod.main, ...args],
      env: pod.env,
      cwd: ROOT,
      logBytes: 64_000,
      ready: async () => (await fetch(`http://127.0.0.1:${String(healthPort)}/readyz`)).ok,
    });
    const eventLoopP99 = async (): Promise<number | undefined> => {
      // prom-client resets its event-loop histogram at each scrape.
      const v = await scrape(healthPort as number, 'rollguard_webhook_nodejs_eventloop_lag_p99_seconds').catch(() => undefined);
      return v === undefined ? undefined : v * 1000;
    };
    return { name: 'rollguard webhook', process: proc, port: port as number, path: '/mutate', healthPort: healthPort as number, eventLoopP99 };
  });
}

/** The echo server's GET /eventloop (echo-server.ts), over TLS with the CA that signed its pair. */
function echoEventLoopP99(port: number, ca: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/eventloop', servername: 'localhost', ca, agent: false, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { p99Ms: number }).p99Ms);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('error', () => {
      resolve(undefined);
    });
    req.on('timeout', () => req.destroy());
  });
}

export function startEcho(tls: { cert: string; key: string; ca: string }): Promise<ServerUnderLoad> {
  return withFreePorts(1, async ([port]) => {
    const pod = await podRuntime();
    const proc = await startProcess({
      name: 'node:https echo',
      command: process.execPath,
      args: tsx('bench/harden/echo-server.ts', [tls.cert, tls.key, String(port)]),
      env: pod.env,
      cwd: ROOT,
      ready: () => listening(port as number),
    });
    return { name: 'bare node:https (parse, echo uid)', process: proc, port: port as number, path: '/', eventLoopP99: () => echoEventLoopP99(port as number, tls.ca) };
  });
}

/** Resident memory of a process, bytes (Linux /proc). */
export async function rssBytes(pid: number): Promise<number> {
  return statusKb(await readFile(`/proc/${String(pid)}/status`, 'utf8'), 'VmRSS') * 1024;
}

/** One series from the webhook's /metrics, named as exposed (`name` or `name{label="value"}`); undefined when absent. */
async function metricLines(healthPort: number): Promise<string[]> {
  return (await (await fetch(`http://127.0.0.1:${String(healthPort)}/metrics`, { signal: AbortSignal.timeout(5000) })).text()).split('\n');
}

export async function scrape(healthPort: number, series: string): Promise<number | undefined> {
  const line = (await metricLines(healthPort)).find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The sum of every series of a metric (each label set), 0 when it has none yet. */
export async function scrapeSum(healthPort: number, name: string): Promise<number> {
  let sum = 0;
  for (const line of await metricLines(healthPort)) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

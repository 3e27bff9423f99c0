import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort, httpOk, startProcess, type ManagedProcess } from '../test/support/process.js';
import { imageEnv } from './image-bundle.js';

// `rollguard agent` as a child process for the footprint measurement: the image's bundle as the
// container runs it (no tsx loader thread in the figures), a Prometheus stand-in
// that answers every query with no data, and its RSS and CPU read from /proc. The inspector
// (loopback) is open only to force a full GC: without memory pressure V8 keeps garbage around, so
// what the caches really retain shows only after one.

const ROOT = join(import.meta.dirname, '..');
/** Answers query_range with an empty matrix, label values with an empty list: "no data" for every deploy; the health probe's `1` with a scalar. */
export async function startPrometheusStub(): Promise<{ url: string; requests: () => number; stop: () => Promise<void> }> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const url = req.url ?? '';
    // The agent's health probe asks for the scalar 1; every other instant query finds no series.
    const probe = url.startsWith('/api/v1/query?') && new URL(url, 'http://stub').searchParams.get('query') === '1';
    const data = url.startsWith('/api/v1/query_range') ? { resultType: 'matrix', result: [] } : url.startsWith('/api/v1/label/') ? [] : probe ? { resultType: 'scalar', result: [Date.now() / 1000, '1'] } : { resultType: 'vector', result: [] };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    requests: () => requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcSample {
  rssMb: number;
  hwmMb: number;
  cpuSeconds: number;
}

/** A "Name:  N kB" field of /proc/PID/status, in kB; NaN when absent. */
export function statusKb(status: string, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
}

export function procSample(pid: number): ProcSample {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const kb = (field: string) => statusKb(status, field);
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the line.
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, cpuSeconds: ticks / TICKS };
}

export interface RunningAgent {
  process: ManagedProcess;
  port: number;
  /** ms from spawn until /readyz said synced. */
  syncMs: number;
  metric(name: string): Promise<number>;
  /** Forces a full GC and returns the V8 heap in use after it, MB. */
  collectGarbage(): Promise<number>;
}

async function inspect(port: number, methods: readonly string[]): Promise<unknown[]> {
  const targets = (await (await fetch(`http://127.0.0.1:${String(port)}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (url === undefined) throw new Error('the agent has no inspector target');
  const ws = new WebSocket(url);
  const results = new Map<number, unknown>();
  try {
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('the inspector did not answer'));
      }, 30_000);
      ws.onmessage = (e: MessageEvent) => {
        const m = JSON.parse(String(e.data)) as { id?: number; result?: unknown };
        if (m.id === undefined) return;
        results.set(m.id, m.result);
        if (results.size === methods.length) {
          clearTimeout(timer);
          resolve(methods.map((_, i) => results.get(i)));
        }
      };
      methods.forEach((method, id) => {
        ws.send(JSON.stringify({ id, method }));
      });
    });
  } finally {
    ws.close();
  }
}

/** How the agent finds the cluster: a kubeconfig file, or a Pod's service-account mount. */
export type AgentConnection = { kubeconfig: string } | { pod: { server: string; caFile: string; token: string } };

/**
 * The service-account files a Pod gets, at the path a Pod has them, visible to this one process: a
 * private mount namespace (unshare, as root) with a tmpfs over /var/run. Without it the agent would
 * run with a kubeconfig, which loads client-node and is not what a Pod pays.
 */
export const POD_WRAPPER = [
  'set -e',
  'mount -t tmpfs rollguard-pod /var/run',
  'd=/var/run/secrets/kubernetes.io/serviceaccount',
  'mkdir -p "$d"',
  'cp "$ROLLGUARD_POD_CA" "$d/ca.crt"',
  'printf %s "$ROLLGUARD_POD_TOKEN" > "$d/token"',
  'printf %s "$ROLLGUARD_POD_NAMESPACE" > "$d/namespace"',
  'unset ROLLGUARD_POD_TOKEN',
  'exec "$@"',
].join('\n');

/** Whether this machine lets the bench give a process a Pod's service-account mount. */
export function podMountPossible(): boolean {
  try {
    execFileSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs probe /var/run'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export async function startAgentProcess(main: string, args: { connection: AgentConnection; prometheus: string; namespace: string; id: string; interval: string; nodeOptions?: string }): Promise<RunningAgent> {
  const port = await freePort();
  const inspectorPort = await freePort();
  const t0 = performance.now();
  const nodeArgs = [`--inspect=127.0.0.1:${String(inspectorPort)}`, main, 'agent', '--prometheus', args.prometheus, '--namespace', args.namespace, '--id', args.id, '--port', String(port), '--interval', args.interval];
  const conn = args.connection;
  const env: NodeJS.ProcessEnv = { ...process.env, ...imageEnv(), KUBECONFIG: '', NODE_OPTIONS: args.nodeOptions ?? '' };
  let command = process.execPath;
  let commandArgs: string[];
  if ('kubeconfig' in conn) {
    commandArgs = [...nodeArgs, '--kubeconfig', conn.kubeconfig];
  } else {
    const server = new URL(conn.pod.server);
    Object.assign(env, { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port, ROLLGUARD_POD_CA: conn.pod.caFile, ROLLGUARD_POD_TOKEN: conn.pod.token, ROLLGUARD_POD_NAMESPACE: args.namespace });
    command = 'unshare';
    commandArgs = ['-m', 'sh', '-c', POD_WRAPPER, 'sh', process.execPath, ...nodeArgs];
  }
  const p = await startProcess({
    name: `rollguard agent ${args.id}`,
    command,
    args: commandArgs,
    cwd: ROOT,
    env,
    ready: () => httpOk(`http://127.0.0.1:${String(port)}/readyz`),
    timeoutMs: 180_000,
  });
  const syncMs = performance.now() - t0;
  return {
    process: p,
    port,
    syncMs,
    async metric(name) {
      const text = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
      let sum = 0;
      for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
      return sum;
    },
    async collectGarbage() {
      const [, usage] = (await inspect(inspectorPort, ['HeapProfiler.collectGarbage', 'Runtime.getHeapUsage'])) as [unknown, { usedSize: number }];
      return usage.usedSize / 2 ** 20;
    },
  };
}

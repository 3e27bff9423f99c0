import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort, httpOk, startProcess, type ManagedProcess } from '../../test/support/process.js';
import type { Stack } from '../../test/support/rollguard-stack.js';
import type { FaultProxy } from './fault-proxy.js';
import type { Interval } from './fault-invariants.js';

// The two agent processes of the fault schedules, each reaching the apiserver through its own slot
// of the fault proxy and Prometheus through the gate. A replica killed by a fault is started again
// (as its Deployment would) under a new identity; one that exits on its own is a crash.

const ROOT = join(import.meta.dirname, '..', '..');
/** Starting tsx on a busy shared 2-core machine has taken a minute. */
const START_TIMEOUT_MS = 180_000;

export const LEASE = { durationMs: 6000, renewDeadlineMs: 4000, retryPeriodMs: 1000 };
const RESTART_AFTER_MS = 1000;

interface Replica {
  slot: string;
  identity: string;
  port: number;
  process: ManagedProcess;
  /** Killed or stopped by the harness, on purpose. */
  expectedExit: boolean;
}

/** Sends `sig`; false when the process is already gone (ESRCH), which is the caller's to judge. */
function signal(r: Replica, sig: NodeJS.Signals): boolean {
  try {
    process.kill(r.process.pid, sig);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

export class AgentReplicas {
  private readonly replicas = new Map<string, Replica>();
  private incarnation = 0;
  readonly crashes: string[] = [];
  readonly unavailable: (Interval & { identity: string })[] = [];
  private readonly pending = new Set<Promise<unknown>>();

  private constructor(private readonly stack: Stack, private readonly proxy: FaultProxy, private readonly prometheusUrl: string, private readonly kubeconfigs: Map<string, string>) {}

  static async start(stack: Stack, proxy: FaultProxy, prometheusUrl: string, slots: readonly string[]): Promise<AgentReplicas> {
    const agentConfig = parse(await readFile(stack.agentKubeconfigPath, 'utf8')) as { users: { user: { token: string } }[] };
    const ca = (await readFile(join(stack.dir, 'proxy-certs', 'ca.crt'), 'utf8'));
    const kubeconfigs = new Map<string, string>();
    for (const slot of slots) {
      const path = join(stack.dir, `agent-${slot}.kubeconfig`);
      await writeFile(path, stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'proxy', cluster: { server: proxy.url(slot), 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
        users: [{ name: 'agent', user: { token: agentConfig.users[0]?.user.token } }],
        contexts: [{ name: 'agent', context: { cluster: 'proxy', user: 'agent' } }],
        'current-context': 'agent',
      }));
      kubeconfigs.set(slot, path);
    }
    const replicas = new AgentReplicas(stack, proxy, prometheusUrl, kubeconfigs);
    for (const slot of slots) await replicas.launch(slot, true);
    proxy.kill = (identity) => {
      replicas.killAndRestart(identity);
    };
    return replicas;
  }

  private async launch(slot: string, waitReady: boolean): Promise<void> {
    const identity = `${slot}${String(++this.incarnation)}`;
    this.proxy.setIdentity(slot, identity);
    const port = await freePort();
    const s = this.stack;
    const args = ['agent', '--kubeconfig', this.kubeconfigs.get(slot) ?? '', '--prometheus', this.prometheusUrl, '--policy', s.policyPath, '--namespace', s.own, '--id', identity, '--port', String(port), '--interval', '1s', '--lease-duration', `${String(LEASE.durationMs)}ms`, '--renew-deadline', `${String(LEASE.renewDeadlineMs)}ms`, '--retry-period', `${String(LEASE.retryPeriodMs)}ms`, '--only-namespace', s.ns, ...s.more.flatMap((n) => ['--only-namespace', n])];
    const ready = waitReady ? () => httpOk(`http://127.0.0.1:${String(port)}/readyz`) : () => httpOk(`http://127.0.0.1:${String(port)}/healthz`);
    const process = await startProcess({ name: `agent-${identity}`, command: globalThis.process.execPath, args: ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], cwd: ROOT, ready, timeoutMs: START_TIMEOUT_MS });
    this.replicas.set(slot, { slot, identity, port, process, expectedExit: false });
  }

  list(): { slot: string; identity: string; base: string; pid: number }[] {
    return [...this.replicas.values()].map((r) => ({ slot: r.slot, identity: r.identity, base: `http://127.0.0.1:${String(r.port)}`, pid: r.process.pid }));
  }

  byIdentity(identity: string): Replica | undefined {
    return [...this.replicas.values()].find((r) => r.identity === identity);
  }

  /** SIGKILL, then a new process in the same slot a moment later. */
  killAndRestart(identity: string): void {
    const r = this.byIdentity(identity);
    if (r === undefined) return;
    // A replica already gone exited on its own: checkCrashes reports it.
    if (!signal(r, 'SIGKILL')) return;
    r.expectedExit = true;
    const from = Date.now();
    this.unavailable.push({ identity, from, to: Number.MAX_SAFE_INTEGER });
    const restarted = (async () => {
      await new Promise((res) => setTimeout(res, RESTART_AFTER_MS));
      await this.launch(r.slot, false);
    })();
    this.pending.add(restarted);
    void restarted.finally(() => this.pending.delete(restarted));
  }

  /** SIGSTOP for `ms`, then SIGCONT; resolves after the SIGCONT. */
  async pause(identity: string, ms: number): Promise<void> {
    const r = this.byIdentity(identity);
    if (r === undefined) return;
    const from = Date.now();
    if (!signal(r, 'SIGSTOP')) return;
    await new Promise((res) => setTimeout(res, ms));
    signal(r, 'SIGCONT');
    // A resumed process needs a moment before its timers and sockets catch up.
    this.unavailable.push({ identity, from, to: Date.now() + 1000 });
  }

  /** Restarts still under way. */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  /** Exits the harness did not cause, since the last call. */
  checkCrashes(): string[] {
    const found: string[] = [];
    for (const r of this.replicas.values()) {
      if (r.process.running() || r.expectedExit) continue;
      r.expectedExit = true;
      found.push(`${r.identity} exited on its own; log tail:\n${r.process.logTail().slice(-2000)}`);
    }
    this.crashes.push(...found);
    return found;
  }

  logTail(identity: string): string {
    return this.byIdentity(identity)?.process.logTail() ?? '';
  }

  async stop(): Promise<void> {
    await this.settled();
    for (const r of this.replicas.values()) {
      r.expectedExit = true;
      signal(r, 'SIGCONT');
      await r.process.stop(10_000);
    }
  }
}

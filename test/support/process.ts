import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

// Child processes of tests (Prometheus, Alertmanager): started on loopback ports, their output
// kept as a tail for error messages, stopped with SIGTERM then SIGKILL, and killed at the latest
// when this worker exits, so a test that throws between start and stop leaves nothing behind.

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * Kills every process startProcess started that is still running. For an afterAll: a test that
 * times out skips its own cleanup, and the exit hook does not run when the worker is killed.
 */
export async function killStartedProcesses(): Promise<void> {
  const closing = [...live].map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('close', () => {
      resolve();
    });
    child.kill('SIGKILL');
  }));
  await Promise.all(closing);
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/**
 * Runs `start` with fresh free ports, again (up to 3 times) when it fails because one of them was
 * taken between freePort() and the child's bind.
 */
export async function withFreePorts<T>(count: number, start: (ports: number[]) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ports: number[] = [];
    while (ports.length < count) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    try {
      return await start(ports);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/i.test((err as Error).message)) throw err;
    }
  }
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** The last few KB of stdout and stderr, interleaved. */
  logTail: () => string;
  running: () => boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. Idempotent. */
  stop: (graceMs?: number) => Promise<void>;
}

export interface StartProcessOptions {
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Polled every 100 ms until true (errors count as "not yet"). */
  ready: () => Promise<boolean>;
  timeoutMs?: number;
  logBytes?: number;
}

/** Starts a process and waits until `ready()`; on exit or timeout it is stopped and the error carries its log tail. */
export async function startProcess(opts: StartProcessOptions): Promise<ManagedProcess> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const logBytes = opts.logBytes ?? 8000;
  installExitHook();
  const child = spawn(opts.command, opts.args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const append = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-logBytes);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => {
      live.delete(child);
      resolve();
    });
  });
  live.add(child);
  const running = () => child.exitCode === null && child.signalCode === null && spawnError === undefined;
  const managed: ManagedProcess = {
    name: opts.name,
    pid: child.pid ?? -1,
    logTail: () => log,
    running,
    stop: async (graceMs = 10_000) => {
      if (child.pid === undefined) return;
      if (running()) {
        child.kill('SIGTERM');
        const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
        if (timedOut) child.kill('SIGKILL');
      }
      await exited;
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError !== undefined) {
      live.delete(child);
      throw new Error(`could not start ${opts.name} (${opts.command}): ${spawnError.message}`, { cause: spawnError });
    }
    if (!running()) {
      await exited;
      throw new Error(`${opts.name} exited during startup (code ${String(child.exitCode)}, signal ${String(child.signalCode)}); log tail:\n${log}`);
    }
    let ok = false;
    try {
      ok = await opts.ready();
    } catch {
      // not listening yet
    }
    if (ok) return managed;
    if (Date.now() >= deadline) {
      await managed.stop(2000);
      throw new Error(`${opts.name} was not ready within ${(timeoutMs / 1000).toFixed(0)} s; log tail:\n${log}`);
    }
    await sleep(100);
  }
}

/** true when GET url answers 2xx. */
export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.body?.cancel();
  return res.ok;
}

/** Throws unless `hostPort` (host:port or a URL) names a loopback address: tests never reach beyond the machine. */
export function assertLoopback(hostPort: string): void {
  const host = /^[a-z][a-z0-9+.-]*:\/\//i.test(hostPort) ? new URL(hostPort).hostname : hostPort.replace(/:\d+$/, '');
  if (!/^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|::1|localhost)$/.test(host)) {
    throw new Error(`${hostPort} is not a loopback address; tests only ever talk to 127.0.0.0/8 or ::1`);
  }
}

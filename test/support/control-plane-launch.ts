import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ControlPlaneFacts } from './control-plane-context.js';

// Finding, unpacking, starting and stopping the real control plane of ../shared/k8s (etcd,
// kube-apiserver 1.20, kube-controller-manager; see its README). Runs in vitest's main process.

const run = promisify(execFile);

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

export const ENABLE_HINT =
  'set ROLLGUARD_K8S_BIN=DIR (already unpacked kube-apiserver, kube-controller-manager, etcd) and/or ROLLGUARD_K8S_SHARED=DIR, ' +
  `or provide ${resolve(REPO_ROOT, '..', 'shared', 'k8s')} (install.sh, start-control-plane.sh, bin/*.xz)`;

export type Located =
  | { ok: true; sharedDir: string; startScript: string; installScript: string; prebuiltBin: string | undefined }
  | { ok: false; reason: string };

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && executable(join(dir, command)));
}

/** Where the control plane comes from, checked cheaply (no unpacking). */
export function locateControlPlane(env: NodeJS.ProcessEnv = process.env, repoRoot: string = REPO_ROOT): Located {
  const sharedDir = resolve(env.ROLLGUARD_K8S_SHARED !== undefined && env.ROLLGUARD_K8S_SHARED !== '' ? env.ROLLGUARD_K8S_SHARED : join(repoRoot, '..', 'shared', 'k8s'));
  const startScript = join(sharedDir, 'start-control-plane.sh');
  const installScript = join(sharedDir, 'install.sh');
  if (!executable(startScript)) return { ok: false, reason: `no executable ${startScript}` };
  const bin = env.ROLLGUARD_K8S_BIN;
  if (bin !== undefined && bin !== '') {
    const prebuiltBin = resolve(bin);
    const missing = ['kube-apiserver', 'kube-controller-manager'].filter((b) => !executable(join(prebuiltBin, b)));
    if (missing.length > 0) return { ok: false, reason: `ROLLGUARD_K8S_BIN=${bin} lacks ${missing.join(', ')}` };
    if (!executable(join(prebuiltBin, 'etcd')) && !onPath('etcd', env)) return { ok: false, reason: `no etcd in ROLLGUARD_K8S_BIN=${bin} nor on PATH` };
    return { ok: true, sharedDir, startScript, installScript, prebuiltBin };
  }
  if (!executable(installScript)) return { ok: false, reason: `no executable ${installScript}` };
  const packed = existsSync(join(sharedDir, 'bin')) ? readdirSync(join(sharedDir, 'bin')) : [];
  const missing = ['kube-apiserver.xz', 'kube-controller-manager.xz'].filter((f) => !packed.includes(f));
  if (missing.length > 0) return { ok: false, reason: `${join(sharedDir, 'bin')} lacks ${missing.join(', ')}` };
  if (!onPath('xz', env)) return { ok: false, reason: 'xz is not installed (Debian: apt-get install xz-utils), so the binaries cannot be unpacked' };
  return { ok: true, sharedDir, startScript, installScript, prebuiltBin: undefined };
}

/**
 * Unpacks with install.sh (idempotent, checksums verified) into a per-machine cache directory.
 * flock serialises concurrent test runs, which would otherwise write the same temp files.
 */
export async function installBinaries(installScript: string, dest: string): Promise<string> {
  const argv = onPath('flock', process.env) ? ['flock', `${dest}.lock`, installScript, dest] : [installScript, dest];
  try {
    const { stdout } = await run(argv[0] ?? installScript, argv.slice(1), { timeout: 180_000 });
    return stdout.trim().split('\n').at(-1) ?? dest;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${installScript} ${dest} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

export interface LaunchedControlPlane {
  facts: ControlPlaneFacts;
  /** Runs WORK_DIR/stop.sh and removes the work dir; resolves with the ms it took. Idempotent. */
  stop(): Promise<number>;
}

export interface LaunchOptions {
  /** Bound on start-control-plane.sh as a whole (its own waits are bounded too). */
  timeoutMs?: number;
  /** Cache directory for unpacked binaries (when ROLLGUARD_K8S_BIN is not set). */
  binCache?: string;
}

function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1] !== undefined) env[m[1]] = m[2] ?? '';
  }
  return env;
}

async function logTails(workDir: string): Promise<string> {
  const dir = join(workDir, 'logs');
  if (!existsSync(dir)) return '';
  const parts: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.log') && n !== 'audit.log')) {
    const lines = (await readFile(join(dir, f), 'utf8')).trimEnd().split('\n');
    parts.push(`--- ${f} (last 20 lines)\n${lines.slice(-20).join('\n')}`);
  }
  return parts.join('\n');
}

/**
 * A detached shell that stops the control plane once `ownerPid` is gone: the processes are
 * setsid'd by the script, so a vitest killed before its teardown would otherwise leave ~470 MB
 * of apiserver, controller manager and etcd running.
 */
function spawnWatchdog(ownerPid: number, workDir: string): number | undefined {
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; [ -x "$2/stop.sh" ] && "$2/stop.sh"; rm -rf "$2"';
  const child = spawn('/bin/sh', ['-c', script, 'rollguard-control-plane-watchdog', String(ownerPid), workDir], { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid;
}

function runStartScript(startScript: string, binDir: string, workDir: string, timeoutMs: number): Promise<string> {
  return new Promise((resolvePath, reject) => {
    const child = spawn(startScript, [binDir, workDir], {
      env: { ...process.env, READY_TIMEOUT: String(Math.max(10, Math.floor(timeoutMs / 1000) - 30)) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-6000)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`start-control-plane.sh did not finish within ${(timeoutMs / 1000).toFixed(0)} s; its output:\n${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const kubeconfig = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && kubeconfig !== '') resolvePath(kubeconfig);
      else reject(new Error(`start-control-plane.sh exited with code ${String(code)}; its output:\n${stderr}`));
    });
  });
}

const PROCESSES = { etcd: 'ETCD_PID', 'kube-apiserver': 'APISERVER_PID', 'kube-controller-manager': 'KCM_PID' } as const;

/** Which of the control plane's processes are gone, each with the tail of its log. */
export async function exitedProcesses(facts: ControlPlaneFacts): Promise<string[]> {
  const gone: string[] = [];
  for (const [name, key] of Object.entries(PROCESSES)) {
    const pid = Number(facts.env[key]);
    let alive = pid > 0;
    try {
      if (alive) process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (alive) continue;
    const log = await readFile(join(facts.workDir, 'logs', `${name}.log`), 'utf8').catch(() => '');
    gone.push(`${name} (pid ${String(pid)}) has exited; last log lines:\n${log.trimEnd().split('\n').slice(-15).join('\n')}`);
  }
  return gone;
}

async function runStop(workDir: string): Promise<void> {
  const stopScript = join(workDir, 'stop.sh');
  if (existsSync(stopScript)) await run(stopScript, [], { timeout: 60_000 });
}

/** A start that failed because a port the script found free was taken before its server bound it. */
function lostPortRace(err: unknown): boolean {
  return err instanceof Error && /address already in use/.test(err.message);
}

const PORT_RACE_ATTEMPTS = 3;

/**
 * Unpacks (unless prebuilt), starts the control plane in a fresh temp work dir and reads its env file.
 * The start script picks free ports, then starts the servers on them; with two test workers each
 * starting processes, another may bind such a port in between. That start is retried on new ports.
 */
export async function launchControlPlane(located: Extract<Located, { ok: true }>, opts: LaunchOptions = {}): Promise<LaunchedControlPlane> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchOnce(located, opts);
    } catch (err) {
      if (attempt >= PORT_RACE_ATTEMPTS || !lostPortRace(err)) throw err;
    }
  }
}

async function launchOnce(located: Extract<Located, { ok: true }>, opts: LaunchOptions): Promise<LaunchedControlPlane> {
  const t0 = performance.now();
  const binDir = located.prebuiltBin ?? (await installBinaries(located.installScript, opts.binCache ?? join(tmpdir(), 'rollguard-k8s-bin')));
  const installMs = Math.round(performance.now() - t0);
  const workDir = await mkdtemp(join(tmpdir(), 'rollguard-cp-'));
  const watchdog = spawnWatchdog(process.pid, workDir);
  const dispose = async () => {
    await runStop(workDir);
    if (watchdog !== undefined) {
      try {
        process.kill(watchdog, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await rm(workDir, { recursive: true, force: true });
  };
  let facts: ControlPlaneFacts;
  try {
    const kubeconfig = await runStartScript(located.startScript, binDir, workDir, opts.timeoutMs ?? 150_000);
    const envFile = join(workDir, 'env');
    const env = parseEnv(await readFile(envFile, 'utf8'));
    const need = (key: string): string => {
      const v = env[key];
      if (v === undefined || v === '') throw new Error(`${envFile} has no ${key}`);
      return v;
    };
    facts = {
      kubeconfig,
      apiserverUrl: need('APISERVER_URL'),
      caFile: need('CA_FILE'),
      caKeyFile: need('CA_KEY_FILE'),
      adminToken: need('ADMIN_TOKEN'),
      auditLog: need('AUDIT_LOG'),
      kubeCacheDir: env.KUBECACHEDIR ?? join(workDir, 'kube-cache'),
      workDir,
      binDir,
      env,
      startMs: Math.round(performance.now() - t0),
      installMs,
    };
  } catch (err) {
    const tails = await logTails(workDir).catch(() => '');
    await dispose().catch(() => undefined);
    throw new Error(`the Kubernetes control plane did not start: ${(err as Error).message}${tails === '' ? '' : `\n${tails}`}`, { cause: err });
  }
  let stopped: Promise<number> | undefined;
  return {
    facts,
    stop: () =>
      (stopped ??= (async () => {
        const s0 = performance.now();
        await dispose();
        return Math.round(performance.now() - s0);
      })()),
  };
}

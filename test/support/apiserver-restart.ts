import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { appendFile, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'node:https';
import type { ControlPlaneFacts } from './control-plane-context.js';
import { waitFor } from './wait.js';

// Kills a launched control plane's kube-apiserver with SIGKILL and starts the same binary again
// with the same command line, environment and working directory, as a node's kubelet restarts a
// static apiserver Pod: etcd keeps the cluster, every client's connections and watches break.
// Only for a control plane the test launched itself (launchControlPlane): the run's shared one
// serves every other test at once.

interface ProcessImage {
  argv: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

function splitNul(buf: Buffer): string[] {
  return buf.toString('utf8').split('\0').filter((s) => s !== '');
}

async function processImage(pid: number): Promise<ProcessImage> {
  const [cmdline, environ] = await Promise.all([readFile(`/proc/${String(pid)}/cmdline`), readFile(`/proc/${String(pid)}/environ`)]);
  const env: NodeJS.ProcessEnv = {};
  for (const entry of splitNul(environ)) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return { argv: splitNul(cmdline), env, cwd: await readlink(`/proc/${String(pid)}/cwd`) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface ApiserverRestart {
  /** When the old process was gone, the new one started, and it answered /readyz (epoch ms). */
  killedAt: number;
  startedAt: number;
  readyAt: number;
  pid: number;
}

/** The apiserver's own /readyz with the admin token, through the cluster CA. */
async function apiserverReady(facts: ControlPlaneFacts): Promise<boolean> {
  const ca = await readFile(facts.caFile, 'utf8');
  return new Promise((resolve) => {
    const req = request(`${facts.apiserverUrl}/readyz`, { ca, headers: { authorization: `Bearer ${facts.adminToken}` }, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => { resolve(false); });
    req.end();
  });
}

/**
 * SIGKILLs the apiserver, keeps it down `downMs`, starts it again, and resolves once it is ready.
 * The new pid is recorded where stop.sh finds it, so the launcher's teardown still stops it.
 */
export async function restartApiserver(facts: ControlPlaneFacts, downMs: number): Promise<ApiserverRestart> {
  const pidFile = join(facts.workDir, 'kube-apiserver.pid');
  const oldPid = Number((await readFile(pidFile, 'utf8')).trim());
  if (!(oldPid > 0) || !alive(oldPid)) throw new Error(`kube-apiserver (pid ${String(oldPid)}) is not running`);
  const image = await processImage(oldPid);
  process.kill(oldPid, 'SIGKILL');
  await waitFor('the killed kube-apiserver to be gone', () => !alive(oldPid), { timeoutMs: 10_000, intervalMs: 50 });
  const killedAt = Date.now();
  await new Promise((r) => setTimeout(r, downMs));
  const startedAt = Date.now();
  const log = openSync(join(facts.workDir, 'logs', 'kube-apiserver.log'), 'a');
  const [command, ...args] = image.argv;
  if (command === undefined) throw new Error(`kube-apiserver (pid ${String(oldPid)}) had an empty command line`);
  const child = spawn(command, args, { cwd: image.cwd, env: image.env, detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error('kube-apiserver could not be started again');
  await writeFile(pidFile, `${String(pid)}\n`);
  await appendFile(join(facts.workDir, 'pids'), `${String(pid)}\n`);
  await waitFor('the restarted kube-apiserver to be ready', async () => {
    if (!alive(pid)) throw new Error('the restarted kube-apiserver exited; see its log in ' + join(facts.workDir, 'logs'));
    return apiserverReady(facts);
  }, { timeoutMs: 120_000, intervalMs: 250 });
  return { killedAt, startedAt, readyAt: Date.now(), pid };
}

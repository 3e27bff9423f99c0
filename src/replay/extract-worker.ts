import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { AuditReadOptions } from './audit-reader.js';
import { timelineFromAuditLog, type ReplayTimeline } from './extract.js';

// Runs the audit read in a worker thread with a bounded young generation. Reading an audit log
// allocates fast and keeps little, but every record that must wait in the reorder window or
// ends up in the timeline survives a scavenge, and V8 grows the young generation with cumulative
// survivals (to 128 MB on Node 24), which then dominates the process's RSS. 48 MB keeps peak RSS
// flat (see bench/replay.ts) at no measurable cost in speed; the old generation keeps its default.

export const YOUNG_GENERATION_MB = 48;

interface Job {
  rollguardAuditJob: true;
  paths: string[];
  reorderWindowMs: number | undefined;
  progressTTY: boolean;
}

const self = import.meta.url;

function workerExecArgv(): string[] {
  // Running from TypeScript sources (tsx): the worker needs the same loader.
  if (!self.endsWith('.ts') || process.execArgv.some((a) => a.includes('tsx'))) return process.execArgv;
  return [...process.execArgv, '--import', 'tsx'];
}

export function timelineFromAuditLogInWorker(paths: readonly string[], options: Pick<AuditReadOptions, 'reorderWindowMs' | 'progress'> = {}): Promise<ReplayTimeline> {
  const job: Job = { rollguardAuditJob: true, paths: [...paths], reorderWindowMs: options.reorderWindowMs, progressTTY: options.progress?.isTTY === true };
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(self), { workerData: job, execArgv: workerExecArgv(), resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
    let settled = false;
    worker.once('message', (result: ReplayTimeline) => {
      settled = true;
      resolve(result);
    });
    worker.once('error', (err: Error) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the audit reader stopped unexpectedly (exit code ${code})`));
    });
  });
}

const job = workerData as Partial<Job> | undefined;
if (!isMainThread && parentPort !== null && job?.rollguardAuditJob === true && job.paths !== undefined) {
  const port = parentPort;
  const result = await timelineFromAuditLog(job.paths, {
    ...(job.reorderWindowMs !== undefined ? { reorderWindowMs: job.reorderWindowMs } : {}),
    progress: { isTTY: job.progressTTY === true, write: (text) => process.stderr.write(text) },
  });
  port.postMessage(result);
}

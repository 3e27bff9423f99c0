import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { ReplayOptions, ReplayOutcome } from './replay-run.js';

// `rollguard replay` runs its whole job (reading the log, deciding, the output) in a worker thread
// with a bounded young generation, and hands the main thread only the output text. Reading an
// audit log allocates fast and keeps little, and so does deciding each deploy step by step; but
// whatever survives a scavenge (records waiting in the reorder window, the timeline, each step's
// series) makes V8 grow the young generation (to 128 MB on Node 24), which then dominates the
// process's RSS. The main thread's young generation cannot be bounded from inside the process,
// and handing it the timeline held it twice: a million-line log peaked at about 300 MB that way.
// 48 MB keeps peak RSS flat (bench/replay.ts) at no measurable cost in speed. The old generation's
// cap is there for V8's heap growing, whose ceiling follows the heap limit: with V8's default limit
// for the machine (4.2 GB on a 24 GB one) the heap may grow to 4× the live data before a full
// collection, under a 1.5 GB limit to about 1.5× there: a million-line log then peaks near 195 MB
// instead of 215-235. Such a log keeps about 50 MB, so the cap is reached only past some 30
// million lines, and then the command says so.

export const YOUNG_GENERATION_MB = 48;
export const OLD_GENERATION_MB = 1536;

interface Job {
  rollguardReplayJob: true;
  options: ReplayOptions;
  progressTTY: boolean;
}

const self = import.meta.url;

function workerExecArgv(): string[] {
  // Running from TypeScript sources (tsx): the worker needs the same loader.
  if (!self.endsWith('.ts') || process.execArgv.some((a) => a.includes('tsx'))) return process.execArgv;
  return [...process.execArgv, '--import', 'tsx'];
}

/** Replays in the worker; progress goes to stderr as the reader writes it (a TTY: a live line). */
export function replayInWorker(options: ReplayOptions, progressTTY = false, oldGenerationMb = OLD_GENERATION_MB): Promise<ReplayOutcome> {
  const job: Job = { rollguardReplayJob: true, options, progressTTY };
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(self), { workerData: job, execArgv: workerExecArgv(), resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: oldGenerationMb } });
    let settled = false;
    worker.once('message', (outcome: ReplayOutcome) => {
      settled = true;
      resolve(outcome);
    });
    worker.once('error', (err: Error & { code?: string }) => {
      settled = true;
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') resolve({ type: 'usage', message: `the audit logs hold more than replay can keep in ${String(oldGenerationMb)} MB of memory; replay fewer files at a time` });
      else reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the replay stopped unexpectedly (exit code ${code})`));
    });
  });
}

const job = workerData as Partial<Job> | undefined;
if (!isMainThread && parentPort !== null && job?.rollguardReplayJob === true && job.options !== undefined) {
  const port = parentPort;
  // Loaded here only: the main thread never holds the replay's modules.
  const { replayOutcome } = await import('./replay-run.js');
  port.postMessage(await replayOutcome(job.options, { isTTY: job.progressTTY === true, write: (text) => process.stderr.write(text) }));
}

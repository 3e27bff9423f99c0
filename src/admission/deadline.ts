// The review path's internal deadline (F2: never the cause of a cluster's outage). A review is
// answered within the deadline whatever a dependency does: past it the change is admitted without
// stamps, which the agent reads as unknown, never as eligible (F1).
//
// What can wait on the review path: the stamp cache's lookups, the namespace's policy and the
// policy objects (for the policy CRDs), each read through a source that may answer later (see
// review-inputs.ts). Everything else on the path (parsing, the blackout guard, the stamps, the
// patch) is synchronous work on the request alone. A synchronous stall of the event loop cannot be
// cut short from inside the process: the apiserver's timeoutSeconds, with failurePolicy Ignore,
// is what bounds that.

/** Leaves the apiserver's 1 s timeoutSeconds half a second for the network and the queue. */
export const DEFAULT_REVIEW_DEADLINE_MS = 500;

/** Where a review is while it waits; `expired` is set once its answer has been sent without it. */
export interface ReviewProgress {
  stage: string;
  expired: boolean;
}

export function startProgress(): ReviewProgress {
  return { stage: 'handler', expired: false };
}

/** Thrown into a review that resumes after its deadline, so nothing it does after that takes effect. */
export class DeadlinePassed extends Error {
  constructor(readonly stage: string) {
    super(`the review's deadline passed while it waited for ${stage}`);
  }
}

/** Waits for one dependency under its stage's name. */
export async function awaitStage<T>(progress: ReviewProgress, stage: string, value: T | Promise<T>): Promise<T> {
  progress.stage = stage;
  const out = await value;
  if (progress.expired) throw new DeadlinePassed(stage);
  return out;
}

export const EXPIRED: unique symbol = Symbol('deadline expired');

/** The work's result, or EXPIRED when `ms` pass first (the work is then marked expired). */
export function raceDeadline<T>(work: Promise<T>, ms: number, progress: ReviewProgress): Promise<T | typeof EXPIRED> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      progress.expired = true;
      resolve(EXPIRED);
    }, Math.max(0, ms));
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

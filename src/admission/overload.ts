import { performance, type EventLoopUtilization } from 'node:perf_hooks';

// Load shedding (F2: never the cause of a cluster's outage). Past its capacity the webhook would
// queue reviews until the apiserver's timeoutSeconds ran out on each of them, then keep working on
// answers nobody waits for: every write in the cluster slowed by a second, a leader-election lock
// renewal missed (kubernetes#90217). Instead, while its event loop is busy past `above`, it admits
// a share of the mutating reviews unstamped (unstamped.ts: cheap, unknown to the agent, never more
// permissive), raising the share until the loop has room again and lowering it once it has.
// Only a loop saturated for two windows in a row counts: a GC pause or one large body is not overload.
// Validating reviews (the blackout guard) are never shed: they read the request alone.

/** Event-loop utilization past which reviews are shed: near saturation, where queues start to grow without bound. */
export const DEFAULT_SHED_ABOVE = 0.95;
/** Each window: how much the share rises while saturated, and falls once utilization is `BAND` under the bound. */
const RISE = 0.1;
const FALL = 0.05;
const BAND = 0.1;
const WINDOW_MS = 250;

/** Consecutive saturated windows before the share rises: one GC pause or one 3 MiB body is not overload. */
const SATURATED_WINDOWS = 2;

export interface ShedState {
  /** The share of mutating reviews shed. */
  share: number;
  /** Consecutive windows with the loop busy past the bound. */
  hot: number;
}

/** The shed state after a window of `utilization` (0–1). */
export function nextShedState(state: ShedState, utilization: number, above: number): ShedState {
  if (utilization > above) {
    const hot = state.hot + 1;
    return { hot, share: hot >= SATURATED_WINDOWS ? hundredths(Math.min(1, state.share + RISE)) : state.share };
  }
  if (utilization < above - BAND) return { hot: 0, share: hundredths(Math.max(0, state.share - FALL)) };
  return { hot: 0, share: state.share };
}

/** Shares move in whole steps: 0.1 ten times is 1, not 0.9999999999999999. */
const hundredths = (x: number): number => Math.round(x * 100) / 100;

export interface ShedChange {
  share: number;
  previous: number;
  utilization: number;
  /** Reviews shed since the share last left 0. */
  shedInEpisode: number;
}

export interface Shedder {
  /** Whether to shed this review: `share` of them, spread evenly. */
  shed(): boolean;
  share(): number;
  /** One window's event-loop utilization (the timer calls this; tests may too). */
  sample(utilization: number): void;
  stop(): void;
}

export interface ShedderOptions {
  above: number;
  onChange?: (change: ShedChange) => void;
  /** false: no timer; the caller feeds `sample` (tests). */
  timer?: boolean;
}

export function startShedder(opts: ShedderOptions): Shedder {
  let state: ShedState = { share: 0, hot: 0 };
  let credit = 0;
  let shedInEpisode = 0;
  const sample = (utilization: number): void => {
    const previous = state.share;
    state = nextShedState(state, utilization, opts.above);
    const share = state.share;
    if (share === previous) return;
    opts.onChange?.({ share, previous, utilization, shedInEpisode });
    if (share === 0) {
      shedInEpisode = 0;
      credit = 0;
    }
  };
  let timer: NodeJS.Timeout | undefined;
  if (opts.timer !== false) {
    let last: EventLoopUtilization = performance.eventLoopUtilization();
    timer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      sample(performance.eventLoopUtilization(now, last).utilization);
      last = now;
    }, WINDOW_MS);
    timer.unref();
  }
  return {
    shed() {
      if (state.share === 0) return false;
      // In hundredths, so that ten reviews at 0.1 shed exactly one.
      credit += Math.round(state.share * 100);
      if (credit < 100) return false;
      credit -= 100;
      shedInEpisode++;
      return true;
    },
    share: () => state.share,
    sample,
    stop() {
      if (timer !== undefined) clearInterval(timer);
    },
  };
}

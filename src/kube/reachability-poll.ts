import type { KubeConnection } from './connection.js';
import { kubeCall } from './kube-http.js';
import { isDown } from './reachability.js';

// Whoever waits for the apiserver to come back hears of it from any answered request on the same
// connection (reachability.ts). The agent's Lease renewals are such requests every retry period; a
// process with nothing but watches on its connection (the webhook's stamp cache) would wait out a
// whole backoff, up to 30 s after the apiserver is back, and stamp every deploy admitted meanwhile
// with an unknown change set. So while anyone waits on a connection whose apiserver does not
// answer, that connection asks it: one GET /version every `everyMs`, however many wait on it, and
// nothing once it answers.

const ASK_EVERY_MS = 2000;

interface Asking {
  waiters: number;
  everyMs: number;
  timer: NodeJS.Timeout | undefined;
  inFlight: boolean;
}

const asking = new WeakMap<KubeConnection, Asking>();

function next(conn: KubeConnection, a: Asking): void {
  if (a.waiters === 0 || a.timer !== undefined || a.inFlight) return;
  a.timer = setTimeout(() => {
    a.timer = undefined;
    if (a.waiters === 0) return;
    if (!isDown(conn)) {
      next(conn, a);
      return;
    }
    a.inFlight = true;
    // The answer (or its absence) reaches the waiters through reachability.ts, as any request's does.
    void kubeCall(conn, { method: 'GET', path: '/version', timeoutMs: a.everyMs })
      .catch(() => undefined)
      .finally(() => {
        a.inFlight = false;
        next(conn, a);
      });
  }, a.everyMs);
  a.timer.unref();
}

/** Asks `conn`'s apiserver whether it is back, every `everyMs` while it is not, until the returned release is called. */
export function askWhileDown(conn: KubeConnection, everyMs = ASK_EVERY_MS): () => void {
  let a = asking.get(conn);
  if (a === undefined) {
    a = { waiters: 0, everyMs, timer: undefined, inFlight: false };
    asking.set(conn, a);
  }
  const state = a;
  state.waiters++;
  state.everyMs = Math.min(state.everyMs, everyMs);
  next(conn, state);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    state.waiters--;
    if (state.waiters === 0 && state.timer !== undefined) {
      clearTimeout(state.timer);
      state.timer = undefined;
    }
  };
}

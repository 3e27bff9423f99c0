import type { KubeConnection } from './connection.js';

// Whether the apiserver behind a connection answers, as every request through it finds out. An
// informer backing off after an outage (up to 30 s between attempts) would otherwise stay stale for
// up to that long after the apiserver is back, although the agent's own Lease renewals, every few
// seconds on the same connection, already show it is. When an answer follows a failure, whoever
// waits for the apiserver is told at once.

interface State {
  down: boolean;
  listeners: Set<() => void>;
}

const states = new WeakMap<KubeConnection, State>();

function stateOf(conn: KubeConnection): State {
  let state = states.get(conn);
  if (state === undefined) {
    state = { down: false, listeners: new Set() };
    states.set(conn, state);
  }
  return state;
}

/** A request found no apiserver: a network error, a timeout, or a 5xx (an apiserver not serving yet). */
export function noteUnreachable(conn: KubeConnection): void {
  stateOf(conn).down = true;
}

/** The last request through `conn` found no apiserver. */
export function isDown(conn: KubeConnection): boolean {
  return states.get(conn)?.down ?? false;
}

/** A request was answered (any status under 500); listeners hear of it when it ends an outage. */
export function noteAnswered(conn: KubeConnection): void {
  const state = stateOf(conn);
  if (!state.down) return;
  state.down = false;
  for (const listener of [...state.listeners]) listener();
}

/** Calls `listener` each time the apiserver answers again after a failure; returns the unsubscribe. */
export function onReachableAgain(conn: KubeConnection, listener: () => void): () => void {
  const { listeners } = stateOf(conn);
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

import { formatInstant } from '../core/duration.js';

// Reinvocation (reinvocationPolicy: IfNeeded) sends rollguard its own output back, possibly to
// another replica. To answer with an empty patch, a stamp time already in the request is reused when
// it is new in this request and at most REUSE_WINDOW_MS old: every stamp is then recomputed from
// it, so a client can at most move a stamp back by that much, never forge what it says.

export const REUSE_WINDOW_MS = 30_000;

export function stampTime(requested: string | undefined, old: string | undefined, now: number): number {
  if (requested === undefined || requested === old) return now;
  const at = Date.parse(requested);
  if (Number.isNaN(at) || at > now || now - at > REUSE_WINDOW_MS) return now;
  // Only the canonical form rollguard writes is reused, so the stamp text stays identical.
  return formatInstant(at) === requested ? at : now;
}

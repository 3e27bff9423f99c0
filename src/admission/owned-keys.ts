import { ANNOTATIONS, ROLLGUARD_OWNED_KEYS } from '../core/annotations.js';

// R12: rollguard's own keys survive `kubectl rollout undo` (which replaces metadata.annotations
// wholesale) and cannot be forged: whatever a request drops is carried forward from oldObject, and
// whatever anyone but rollguard sets or changes is put back. The agent, writing its rollback record,
// is rollguard too (a trusted user).

export interface OwnedKeysInput {
  old: ReadonlyMap<string, string>;
  requested: ReadonlyMap<string, string>;
  /** Stamps computed for this request; they win over everything. */
  stamps: ReadonlyMap<string, string>;
  /** The request comes from rollguard's own agent: its writes to owned keys stand. */
  trustedWriter: boolean;
  /** The pod template changed: a blackout override carried over from before has been spent. */
  templateChanged: boolean;
}

export interface OwnedKeysResult {
  annotations: Map<string, string>;
  warnings: string[];
}

export function reconcileOwnedKeys(input: OwnedKeysInput): OwnedKeysResult {
  const out = new Map(input.requested);
  const warnings: string[] = [];
  for (const key of ROLLGUARD_OWNED_KEYS) {
    if (input.stamps.has(key)) continue;
    const before = input.old.get(key);
    const asked = input.requested.get(key);
    if (asked === before) continue;
    if (asked === undefined) {
      // Dropped: the normal `kubectl rollout undo` shape, carried forward silently.
      if (before !== undefined) out.set(key, before);
      continue;
    }
    if (input.trustedWriter) continue;
    if (before === undefined) out.delete(key);
    else out.set(key, before);
    warnings.push(`${key} is written only by rollguard; the value in this request was ${before === undefined ? 'removed' : 'put back'}`);
  }
  for (const [key, value] of input.stamps) out.set(key, value);
  const override = ANNOTATIONS.blackoutOverride.key;
  const oldOverride = input.old.get(override);
  if (input.templateChanged && oldOverride !== undefined && out.get(override) === oldOverride) out.delete(override);
  return { annotations: out, warnings };
}

// A template read from a ReplicaSet is mostly the Deployment's own (a deploy changes an image or
// an env value, not the whole pod spec), and a Deployment is mostly its previous version, or its
// neighbours' (the same chart, the same defaults): kept as parsed, each would hold the same
// containers, probes, volumes and strings again. `shareSubtrees` makes `value` use every part equal
// to the part of `like` at the same place, so only what differs is held twice. `value` must be
// fresh (just parsed or built, held by nobody else): its parts are replaced in place, which keeps
// the compact layout JSON.parse gave them. Nothing downstream mutates either; equal means the same
// keys in the same order.

type Json = string | number | boolean | null | undefined | Json[] | { [key: string]: Json };

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

/** `value` with its parts equal to `like`'s taken from `like`; `like` itself when all of it is equal. */
export function shareSubtrees<T>(value: T, like: unknown): T {
  return share(value as Json, like as Json) as T;
}

function share(value: Json, like: Json): Json {
  if (value === like || value === null || typeof value !== 'object') {
    // A string equal to the other's is its twin: keep one of the two copies.
    return typeof value === 'string' && value === like ? like : value;
  }
  if (like === null || typeof like !== 'object' || Array.isArray(value) !== Array.isArray(like)) return value;
  if (Array.isArray(value)) {
    const other = like as Json[];
    let same = value.length === other.length;
    for (let i = 0; i < value.length; i++) {
      const v = share(value[i], other[i]);
      // Strings compare by content, so an equal one is written whichever copy it is.
      if (v !== value[i] || typeof v === 'string') value[i] = v;
      if (v !== other[i]) same = false;
    }
    return same ? other : value;
  }
  const other = like as { [key: string]: Json };
  const keys = Object.keys(value);
  let same = sameKeys(keys, Object.keys(other));
  for (const k of keys) {
    const theirs = Object.hasOwn(other, k) ? other[k] : undefined;
    const v = share(value[k], theirs);
    // k is an own data property of value, so this writes it even for a "__proto__" key.
    if (v !== value[k] || typeof v === 'string') value[k] = v;
    if (v !== theirs) same = false;
  }
  return same ? other : value;
}

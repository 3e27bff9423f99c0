// A template read from a ReplicaSet is mostly the Deployment's own (a deploy changes an image or
// an env value, not the whole pod spec): kept as parsed, both would hold the same containers,
// probes, volumes and strings twice. `shareSubtrees` returns `value` with every part equal to the
// part of `like` at the same place replaced by that part, so the cache holds only what differs.
// Nothing here or downstream mutates either; equal means the same keys in the same order.

type Json = string | number | boolean | null | undefined | Json[] | { [key: string]: Json };

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

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
    const out = value.map((v, i) => share(v, other[i]));
    return out.length === other.length && out.every((v, i) => v === other[i]) ? other : out;
  }
  const other = like as { [key: string]: Json };
  const entries = Object.entries(value).map(([k, v]): [string, Json] => [k, share(v, Object.hasOwn(other, k) ? other[k] : undefined)]);
  const same = sameKeys(entries.map(([k]) => k), Object.keys(other)) && entries.every(([k, v]) => v === other[k]);
  // fromEntries keeps a "__proto__" key as data.
  return same ? other : Object.fromEntries(entries);
}

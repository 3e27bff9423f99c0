// JSON with object keys sorted at every level: two values that mean the same serialize the same,
// whatever order a client or the apiserver wrote their keys in. The native serializer does the
// writing; the replacer only reorders objects whose keys are not already sorted, because the
// webhook hashes and compares pod templates on every admission.

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = (keys[i - 1] ?? '') <= (keys[i] ?? '');
  if (sorted) return value;
  // No prototype, so a "__proto__" key is copied as data, as JSON.parse produced it.
  const out = Object.create(null) as Record<string, unknown>;
  for (const k of keys.sort()) out[k] = record[k];
  return out;
}

export function canonicalJson(value: unknown): string {
  // JSON.stringify gives undefined for a bare undefined, function or symbol; JSON would write null.
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return 'null';
  return JSON.stringify(value, sortKeys);
}

/**
 * True when the two values serialize to the same canonical JSON, decided structurally (no strings
 * built, first difference wins). As in JSON, an undefined field equals a missing one, and an
 * undefined array item or a non-finite number equals null.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  return equal(asJson(a), asJson(b));
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => equal(asJson(x), asJson(b[i])));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in x) {
    const [xv, yv] = [x[k], y[k]];
    if (isAbsent(xv) || isAbsent(yv)) {
      if (isAbsent(xv) !== isAbsent(yv)) return false;
    } else if (!equal(asJson(xv), asJson(yv))) return false;
  }
  for (const k in y) if (!(k in x) && !isAbsent(y[k])) return false;
  return true;
}

// What JSON drops from an object (undefined, functions, symbols).
function isAbsent(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

// What JSON writes as null where it cannot drop a value.
function asJson(v: unknown): unknown {
  return isAbsent(v) || (typeof v === 'number' && !Number.isFinite(v)) ? null : v;
}

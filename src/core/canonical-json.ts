// JSON with object keys sorted at every level: two values that mean the same serialize the same,
// whatever order a client or the apiserver wrote their keys in. Written in one pass (no sorted
// copies of the object), because the webhook hashes and compares pod templates on every admission.

export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

function write(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return Array.isArray(value) ? writeArray(value) : writeObject(value as Record<string, unknown>);
    default:
      // undefined, functions and symbols are dropped, as JSON.stringify does.
      return undefined;
  }
}

function writeArray(items: readonly unknown[]): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ',';
    out += write(items[i]) ?? 'null';
  }
  return out + ']';
}

function writeObject(obj: Record<string, unknown>): string {
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = write(obj[key]);
    if (v === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(key) + ':' + v;
    first = false;
  }
  return out + '}';
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

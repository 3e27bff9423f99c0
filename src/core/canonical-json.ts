// JSON with object keys sorted at every level: two values that mean the same serialize the same,
// whatever order a client or the apiserver wrote their keys in. The webhook hashes and compares pod
// templates on every admission, so the common input, data as JSON.parse returns it (plain objects,
// arrays, strings, numbers, booleans, null), is written in one pass by `plainCanonical`; a value
// holding anything else (a Date, a function, a bigint, an object of another prototype) is written
// by the general path below it, which gives a subtree whose objects already have their keys in
// order to the native JSON.stringify and assembles only the objects above it.

export function canonicalJson(value: unknown): string {
  try {
    return plainCanonical(value);
  } catch (err) {
    if (err !== NOT_PLAIN) throw err;
  }
  const out = canon(value);
  return out === CLEAN ? JSON.stringify(value) : typeof out === 'string' ? out : 'null';
}

/** Thrown by plainCanonical at the first value it leaves to the general path. */
const NOT_PLAIN = new Error('not plain JSON data');

/**
 * The string as JSON writes it. A string without what JSON.stringify escapes (quote, backslash,
 * control characters, lone surrogates; any surrogate is left to it) is only quoted: a scan of its
 * characters, which costs less than a regular expression's test on the short strings of objects.
 */
function quoted(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/**
 * The canonical JSON of plain JSON data, written in one pass; throws NOT_PLAIN for anything else.
 * As JSON writes them: an undefined field is left out, an undefined array item is null, a
 * non-finite number is null.
 */
function plainCanonical(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quoted(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return plainArray(value);
      if (Object.getPrototypeOf(value) === Object.prototype) return plainObject(value as Record<string, unknown>);
  }
  throw NOT_PLAIN;
}

function plainArray(items: readonly unknown[]): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    out += (i === 0 ? '' : ',') + (item === undefined ? 'null' : plainCanonical(item));
  }
  return out + ']';
}

/** Past this many keys an object's are sorted by the builtin sort, below it by insertion. */
const INSERTION_SORT_MAX = 16;

/**
 * The keys in code-unit order, sorted in place. Most objects of a pod template have a few keys, and
 * for them an insertion sort costs less than the builtin's setup; keys already in order (a Go
 * map's, as the apiserver writes them) take one comparison each either way.
 */
function inOrder(keys: string[]): string[] {
  if (keys.length > INSERTION_SORT_MAX) {
    for (let k = 1; k < keys.length; k++) if ((keys[k - 1] as string) > (keys[k] as string)) return keys.sort();
    return keys;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

function plainObject(obj: Record<string, unknown>): string {
  const keys = inOrder(Object.keys(obj));
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = obj[key];
    if (v === undefined) continue;
    out += (first ? '' : ',') + quoted(key) + ':' + plainCanonical(v);
    first = false;
  }
  return out + '}';
}

/** JSON.stringify writes the value exactly as the canonical form would. */
const CLEAN = 0;
/** JSON drops the value (undefined, a symbol): skipped in an object, null in an array, still clean. */
const ABSENT = 1;
/** Dropped too, but JSON.stringify would not drop it the same way (a function may be a toJSON, a bigint throws). */
const DROPPED = 2;

type Canon = string | typeof CLEAN | typeof ABSENT | typeof DROPPED;

function canon(value: unknown): Canon {
  if (value === null) return CLEAN;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      // Non-finite numbers are null in both.
      return CLEAN;
    case 'object':
      return Array.isArray(value) ? canonArray(value) : canonObject(value as Record<string, unknown>);
    case 'undefined':
    case 'symbol':
      return ABSENT;
    default:
      return DROPPED;
  }
}

function isPlain(obj: object): boolean {
  const proto = Object.getPrototypeOf(obj) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The text of a value from its canonical form; undefined when JSON drops it. */
function textOf(v: unknown, r: Canon): string | undefined {
  return r === CLEAN ? JSON.stringify(v) : typeof r === 'string' ? r : undefined;
}

/** The text of a value already found clean or absent (ahead of the first value that was not). */
function cleanText(v: unknown): string | undefined {
  return v === undefined || typeof v === 'symbol' ? undefined : JSON.stringify(v);
}

function canonArray(items: readonly unknown[]): Canon {
  const n = items.length;
  let i = 0;
  let r: Canon = CLEAN;
  for (; i < n; i++) {
    r = canon(items[i]);
    if (r !== CLEAN && r !== ABSENT) break;
  }
  if (i === n) return CLEAN;
  let out = '[';
  for (let j = 0; j < n; j++) {
    const item = items[j];
    out += (j > 0 ? ',' : '') + ((j < i ? cleanText(item) : textOf(item, j === i ? r : canon(item))) ?? 'null');
  }
  return out + ']';
}

function canonObject(obj: Record<string, unknown>): Canon {
  const keys = Object.keys(obj);
  let sorted = isPlain(obj);
  for (let k = 1; sorted && k < keys.length; k++) sorted = (keys[k - 1] as string) < (keys[k] as string);
  let i = 0;
  let r: Canon = CLEAN;
  if (sorted) {
    for (; i < keys.length; i++) {
      r = canon(obj[keys[i] as string]);
      if (r !== CLEAN && r !== ABSENT) break;
    }
    if (i === keys.length) return CLEAN;
  } else {
    keys.sort();
    i = -1;
  }
  let out = '{';
  let first = true;
  for (let j = 0; j < keys.length; j++) {
    const key = keys[j] as string;
    const v = obj[key];
    const text = j < i ? cleanText(v) : textOf(v, j === i ? r : canon(v));
    if (text === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(key) + ':' + text;
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

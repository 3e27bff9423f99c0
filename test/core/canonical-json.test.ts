import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sameJson } from '../../src/core/canonical-json.js';

// The plain definition: keys sorted by code unit, values as JSON writes them (undefined,
// functions, symbols and bigints dropped from objects, null in arrays); objects of another
// prototype (a Date, a boxed string) by their own enumerable keys.
const reference = (v: unknown): string | undefined => {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v !== 'object') return undefined;
  if (Array.isArray(v)) return `[${Array.from(v as unknown[], (x) => reference(x) ?? 'null').join(',')}]`;
  const o = v as Record<string, unknown>;
  const fields = Object.keys(o).sort().flatMap((k) => {
    const text = reference(o[k]);
    return text === undefined ? [] : [`${JSON.stringify(k)}:${text}`];
  });
  return `{${fields.join(',')}}`;
};

describe('R3 canonical JSON', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('drops undefined fields as JSON does, and writes them as null inside arrays', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, 1] })).toBe('{"b":[null,1]}');
  });

  it('writes strings and keys exactly as JSON.stringify does: quotes, backslashes, control characters, lone and paired surrogates', () => {
    const char = fc.oneof(fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\ud800', '\udfff', '😀', 'a'));
    const text = fc.array(char, { maxLength: 12 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(text, text, (value, key) => {
        expect(canonicalJson(value)).toBe(JSON.stringify(value));
        expect(canonicalJson({ [key]: value })).toBe(JSON.stringify({ [key]: value }));
      }),
      { numRuns: 5000 },
    );
  });

  it('is valid JSON equal to the input, and independent of key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = canonicalJson(v);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
        const reversed: unknown = JSON.parse(JSON.stringify(v), (_k, x: unknown) =>
          x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).reverse()) : x,
        );
        expect(canonicalJson(reversed)).toBe(text);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('writes exactly what sorting every object and writing it as JSON writes, whatever the value holds', () => {
    // Sorted objects at some levels (the native path), unsorted at others, integer-like keys, toJSON.
    const sortedDeep = (v: unknown): unknown =>
      v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortedDeep((v as Record<string, unknown>)[k])]))
        : Array.isArray(v) ? v.map(sortedDeep) : v;
    const leaf = fc.oneof(fc.anything({ withBoxedValues: true, withDate: true, withNullPrototype: true, withSparseArray: true, withBigInt: true, withObjectString: true }), fc.constantFrom(() => 1, Symbol('s'), Number.NaN, -0, Infinity, { toJSON: () => 'x', a: 1 }, { toJSON: 'not a function' }, { '10': 1, '9': 2, a: 3 }));
    const value = fc.oneof(leaf, leaf.map(sortedDeep), fc.dictionary(fc.constantFrom('a', 'b', '0', '10', '9', 'toJSON', '__proto__'), fc.oneof(leaf, leaf.map(sortedDeep))), fc.array(leaf.map(sortedDeep)));
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(reference(v) ?? 'null');
      }),
      { numRuns: 5000, seed: 13 },
    );
  });

  it('orders the keys of small and large objects alike, in any order they come: integer-like keys, shared prefixes, already sorted or reversed', () => {
    const key = fc.oneof(fc.constantFrom('0', '1', '9', '10', '100', 'a', 'aa', 'ab', 'B', '_', 'a-b', 'a.b', 'é', '\ud83d\ude00'), fc.string({ maxLength: 4 }));
    const order = fc.constantFrom('as written', 'sorted', 'reversed');
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 60, size: 'max' }), order, (keys, how) => {
        const written = how === 'sorted' ? [...keys].sort() : how === 'reversed' ? [...keys].sort().reverse() : keys;
        const obj = Object.fromEntries(written.map((k, i) => [k, i]));
        expect(canonicalJson(obj)).toBe(reference(obj));
      }),
      { numRuns: 2000, seed: 23 },
    );
  });

  it('writes JSON data (any string: quotes, control characters, lone surrogates; keys in any order) exactly as the definition does', () => {
    const char = fc.oneof(fc.constantFrom('\ud800', '\udc00', '"', '\\', '\u0000', '\u001f', '\u007f', '\u2028'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
    const text = fc.string({ unit: char });
    const data = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, text, fc.double(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
      array: fc.array(fc.oneof(tie('value'), fc.constant(undefined))),
      object: fc.dictionary(fc.oneof(text, fc.constantFrom('a', 'b', '0', '10', '9', '__proto__')), fc.oneof(tie('value'), fc.constant(undefined))),
    })).value;
    fc.assert(
      fc.property(data, (v) => {
        expect(canonicalJson(v)).toBe(reference(v) ?? 'null');
      }),
      { numRuns: 3000, seed: 17 },
    );
    expect(canonicalJson({ z: '\u2028"\\', y: 'a\ud800', a: [undefined, Number.NaN, -0, 1e21] })).toBe('{"a":[null,null,0,1e+21],"y":"a\\ud800","z":"\u2028\\"\\\\"}');
  });

  it('sameJson agrees with comparing canonical JSON, for any pair of values', () => {
    const value = fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.dictionary(fc.constantFrom('a', 'b'), fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 2 }))));
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(sameJson(a, b)).toBe(canonicalJson(a) === canonicalJson(b));
        expect(sameJson(a, structuredClone(a))).toBe(true);
      }),
      { numRuns: 2000, seed: 11 },
    );
  });

  it('tells different values apart', () => {
    expect(sameJson({ a: 1 }, { a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: '1' })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
  });
});

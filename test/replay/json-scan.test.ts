import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonScanner } from '../../src/replay/json-scan.js';

// The scanner must accept exactly what JSON.parse accepts (a line it passes as JSON and JSON.parse
// would reject must still be counted as invalid JSON), and find the member JSON.parse reads.

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const scanner = new JsonScanner();
const ascii = fc.string({ unit: 'binary-ascii', maxLength: 12 });
const asciiJson = fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v, (_, x: unknown) => (typeof x === 'string' ? x.replace(/[^\x20-\x7e]/g, 'x') : x)));
/** Bytes that matter to JSON's grammar, and some that never may appear outside a string. */
const grammar = fc.constantFrom(...Array.from('{}[]:,"\\ \t\n\r-+.0123456789eEtrufalsn/bx\u0000\u001f'));

/** One edit of a text: a character inserted, deleted or replaced. */
const mutated = (text: fc.Arbitrary<string>) =>
  fc.tuple(text, fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), fc.oneof(grammar, ascii.map((s) => s.slice(0, 1)))).map(([t, at, how, c]) => {
    const i = t.length === 0 ? 0 : at % t.length;
    if (how === 'insert') return t.slice(0, i) + c + t.slice(i);
    if (how === 'delete') return t.slice(0, i) + t.slice(i + 1);
    return t.slice(0, i) + c + t.slice(i + 1);
  });

describe('JsonScanner.valid agrees with JSON.parse', () => {
  it('on JSON texts, compact and indented', () => {
    fc.assert(
      fc.property(asciiJson, fc.constantFrom(0, 2), (text, indent) => {
        const t = indent === 0 ? text : JSON.stringify(JSON.parse(text), null, indent);
        expect(scanner.valid(t)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('on texts with one character inserted, deleted or replaced', () => {
    fc.assert(
      fc.property(mutated(asciiJson), (text) => {
        expect(scanner.valid(text)).toBe(parses(text));
      }),
      { numRuns: 10_000 },
    );
  });

  it('on short strings of grammar characters', () => {
    fc.assert(
      fc.property(fc.array(grammar, { maxLength: 12 }).map((cs) => cs.join('')), (text) => {
        expect(scanner.valid(text)).toBe(parses(text));
      }),
      { numRuns: 10_000 },
    );
  });

  it.each([
    ['', false],
    [' ', false],
    ['0', true],
    ['-0.5e+3', true],
    ['01', false],
    ['1.', false],
    ['.5', false],
    ['-', false],
    ['1e', false],
    ['"\\u00e9"', true],
    ['"\\u00g9"', false],
    ['"\\x"', false],
    ['"a\tb"', false],
    ['"a\u007fb"', true],
    ['{"a":1,}', false],
    ['[1,]', false],
    ['{"a" : [ true , false , null ] }', true],
    ['nul', false],
    ['truex', false],
    ['{}}', false],
    ['[]\n', true],
  ])('%j: %s', (text, expected) => {
    expect(parses(text)).toBe(expected);
    expect(scanner.valid(text)).toBe(expected);
  });

  it('does not read texts that are not all ASCII', () => {
    expect(scanner.valid('"é"')).toBeUndefined();
    expect(scanner.member('{"a":"é"}', 'a')).toBeUndefined();
  });

  it('reads nesting 100,000 deep without exhausting the stack', () => {
    const deep = `${'[{"a":'.repeat(100_000)}1${'}]'.repeat(100_000)}`;
    expect(scanner.valid(deep)).toBe(true);
    expect(scanner.valid(deep.slice(0, -1))).toBe(false);
  });

  it('never reads past the end of a shorter text after a longer one', () => {
    expect(scanner.valid('"' + 'x'.repeat(100) + '"')).toBe(true);
    expect(scanner.valid('"xx')).toBe(false);
    expect(scanner.valid('tru')).toBe(false);
  });
});

describe('JsonScanner.member finds the first member of that name', () => {
  const objects = fc.dictionary(fc.constantFrom('a', 'b', 'requestObject', 'kind', 'x y'), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1 });

  it('as JSON.parse reads it, with any whitespace', () => {
    fc.assert(
      fc.property(objects, fc.constantFrom(0, 1, 4), (obj, indent) => {
        const text = JSON.stringify(obj, (_, x: unknown) => (typeof x === 'string' ? x.replace(/[^\x20-\x7e]/g, 'x') : x), indent);
        const parsed = JSON.parse(text) as Record<string, unknown>;
        for (const key of Object.keys(parsed)) {
          const span = scanner.member(text, key);
          expect(span).toBeDefined();
          if (span !== undefined) expect(JSON.parse(text.slice(span.start, span.end))).toEqual(parsed[key]);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('is undefined when the text is broken before that member ends, or has no such member', () => {
    expect(scanner.member('{"a":1,"b":[1,}', 'b')).toBeUndefined();
    expect(scanner.member('{"a":1 "b":2}', 'b')).toBeUndefined();
    expect(scanner.member('{"a":1}', 'b')).toBeUndefined();
    expect(scanner.member('[{"a":1}]', 'a')).toBeUndefined();
    expect(scanner.member('{"c":{"a":1},"a":2}', 'a')).toEqual({ start: 17, end: 18 });
    expect(scanner.member('{"\\u0061":1,"a":2}', 'a')).toEqual({ start: 16, end: 17 });
  });

  it('does not read what follows the member', () => {
    expect(scanner.member('{"a":[1,2],"b":', 'a')).toEqual({ start: 5, end: 10 });
  });
});

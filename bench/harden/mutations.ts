// Hostile versions of a JSON document, as bytes: the shapes issue 17 names (truncated, 10,000-deep
// nesting, invalid UTF-8, duplicate keys, wrong types, a null `request`, oversized strings), each
// drawn from a seeded generator so a run can be repeated.

export type Mutation = 'truncated' | 'deep-nesting' | 'invalid-utf8' | 'duplicate-keys' | 'wrong-type' | 'null-request' | 'oversized-string' | 'intact';

const WRONG_VALUES: readonly unknown[] = [null, 0, -1, 1e308, true, '', 'x', [], {}, [[]], { '': null }, '\u0000', '__proto__'];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T;
}

/** Replaces one value at a random depth with a value of another type. */
function wrongType(doc: unknown, rand: () => number): unknown {
  const copy = structuredClone(doc);
  let node: unknown = copy;
  for (let depth = 0; depth < 12; depth++) {
    if (node === null || typeof node !== 'object') break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = pick(rand, keys);
    const child = (node as Record<string, unknown>)[key];
    if (child === null || typeof child !== 'object' || rand() < 0.25) {
      (node as Record<string, unknown>)[key] = pick(rand, WRONG_VALUES);
      break;
    }
    node = child;
  }
  return copy;
}

export interface Mutated {
  kind: Mutation;
  body: Buffer;
}

export interface MutationRates {
  /** One in this many is an oversized string (they are megabytes each). */
  oversizedEvery: number;
  oversizedBytes: number;
  /** One in this many is nested 10,000 deep (tens of kilobytes each). */
  deepEvery: number;
}

export function mutate(doc: Record<string, unknown>, text: string, rand: () => number, opts: MutationRates): Mutated {
  if (rand() * opts.deepEvery < 1) return deepNesting(text, rand);
  if (rand() * opts.oversizedEvery < 1) {
    const big = 'A'.repeat(Math.floor(opts.oversizedBytes * (0.5 + rand())));
    return { kind: 'oversized-string', body: Buffer.from(text.replace('"metadata":{', `"metadata":{"rollguard-big":"${big}",`)) };
  }
  const kind = pick<Mutation>(rand, ['truncated', 'invalid-utf8', 'duplicate-keys', 'wrong-type', 'null-request', 'intact']);
  switch (kind) {
    case 'truncated':
      return { kind, body: Buffer.from(text.slice(0, Math.floor(rand() * text.length))) };
    case 'invalid-utf8': {
      const bytes = Buffer.from(text);
      const at = Math.floor(rand() * bytes.length);
      return { kind, body: Buffer.concat([bytes.subarray(0, at), Buffer.from([pick(rand, [0xff, 0xc0, 0xed, 0xf8]), 0xa0, 0x80]), bytes.subarray(at)]) };
    }
    case 'duplicate-keys':
      return { kind, body: Buffer.from(text.replace('"request":{', `"request":{"uid":${JSON.stringify(pick(rand, ['', 'dup', 'x'.repeat(300)]))},"kind":{"kind":7},`)) };
    case 'wrong-type':
      return { kind, body: Buffer.from(JSON.stringify(wrongType(doc, rand))) };
    case 'null-request':
      return { kind, body: Buffer.from(JSON.stringify({ ...doc, request: null })) };
    default:
      return { kind, body: Buffer.from(text) };
  }
}

const DEPTH = 10_000;
const DEEP = [`${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`, `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`] as const;

function deepNesting(text: string, rand: () => number): Mutated {
  const nest = DEEP[rand() < 0.5 ? 0 : 1];
  // Where the object's metadata is (the webhook reads it), else at the top.
  const body = text.includes('"metadata":{') ? text.replace('"metadata":{', `"metadata":{"deep":${nest},`) : `{"deep":${nest},${text.slice(1)}`;
  return { kind: 'deep-nesting', body: Buffer.from(body) };
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditLineParser, NOT_READ } from '../../src/replay/audit-line.js';
import { parseAuditLine } from '../../src/timeline/audit-event.js';
import { requestBodyRead } from '../../src/timeline/audit-bodies.js';
import { at, auditEvent, deploymentObject } from '../fixtures/audit/builders.js';

// A line read without its request body gets the verdict JSON.parse of the whole line leads to
// (the same record, or the same skip reason), broken or hostile lines included; the body is only
// left out when the timeline does not read it.

const parser = new AuditLineParser(requestBodyRead);

function statusUpdate(extra: Record<string, unknown> = {}): string {
  const object = deploymentObject({ generation: 3, revision: 2 });
  return JSON.stringify({ ...auditEvent({ verb: 'update', resource: 'deployments', subresource: 'status', namespace: 'shop', name: 'checkout', at: at(1), requestObject: object, responseObject: object }), ...extra });
}

function templatePatch(): string {
  return JSON.stringify(auditEvent({ verb: 'patch', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(2), requestObject: { spec: { template: { spec: { containers: [{ name: 'app', image: 'x:2' }] } } } }, responseObject: deploymentObject({ generation: 4, image: 'x:2' }) }));
}

/** A verdict with a request body the timeline does not read shown only as there or not. */
function unreadBodyMarked(verdict: ReturnType<typeof parseAuditLine>): unknown {
  if (verdict === undefined || typeof verdict === 'string') return verdict;
  if (!requestBodyRead(verdict.event) && Object.hasOwn(verdict.event, 'requestObject')) verdict.event.requestObject = NOT_READ;
  return verdict;
}

/** The parser's verdict, and the one JSON.parse of the whole line leads to. */
function both(line: string): [unknown, unknown] {
  return [unreadBodyMarked(parser.parse(line)), unreadBodyMarked(parseAuditLine(line))];
}

const LINES = [statusUpdate(), templatePatch(), statusUpdate({ verb: 'create' }), statusUpdate({ responseObject: { kind: 'Status', code: 200 } }), statusUpdate({ responseObject: null })];

describe('AuditLineParser', () => {
  it('reads records long enough to be scanned', () => {
    for (const line of LINES) expect(line.length).toBeGreaterThanOrEqual(2048);
  });

  it('leaves out a status write’s request body, and keeps it where the timeline reads it', () => {
    const status = parser.parse(LINES[0] ?? '');
    expect(typeof status === 'object' && status.event.requestObject).toBe(NOT_READ);
    const patch = parser.parse(LINES[1] ?? '');
    expect(typeof patch === 'object' && patch.event.requestObject).toEqual({ spec: { template: { spec: { containers: [{ name: 'app', image: 'x:2' }] } } } });
    for (const line of LINES) expect(parser.parse(line)).toEqual(unreadBodyMarked(parseAuditLine(line)));
  });

  it('gives every line with one character inserted, deleted or replaced the verdict of JSON.parse', () => {
    const chars = fc.constantFrom(...Array.from('{}[]:,"\\ -.0123456789eEtfnuxé\u0000'));
    fc.assert(
      fc.property(fc.constantFrom(...LINES), fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), chars, (line, i, how, c) => {
        const k = i % line.length;
        const text = how === 'insert' ? line.slice(0, k) + c + line.slice(k) : line.slice(0, k) + (how === 'replace' ? c : '') + line.slice(k + 1);
        const [got, want] = both(text);
        expect(got).toEqual(want);
      }),
      { numRuns: 5000 },
    );
  });

  it('gives every line cut short the verdict of JSON.parse', () => {
    for (const line of LINES) {
      for (let n = line.length; n > line.length - 3000 && n > 0; n -= 7) {
        const [got, want] = both(line.slice(0, n));
        expect(got).toEqual(want);
      }
    }
  });

  it('reads the request body JSON.parse keeps when the line names it again', () => {
    const body = { kind: 'Deployment', later: true };
    const again = statusUpdate().slice(0, -1) + `,"requestObject":${JSON.stringify(body)}}`;
    const escaped = statusUpdate().slice(0, -1) + `,"\\u0072equestObject":${JSON.stringify(body)}}`;
    for (const line of [again, escaped]) {
      const [got, want] = both(line);
      expect(got).toEqual(want);
    }
    const patch = JSON.parse(templatePatch()) as Record<string, unknown>;
    const patchAgain = JSON.stringify(patch).slice(0, -1) + `,"requestObject":${JSON.stringify(body)}}`;
    const got = parser.parse(patchAgain);
    expect(typeof got === 'object' && got.event.requestObject).toEqual(body);
  });

  it('parses a line over 1 MB whole, body included', () => {
    const huge = statusUpdate().replace('"requestObject":{', `"requestObject":{"pad":"${'x'.repeat(1 << 20)}",`);
    const got = parser.parse(huge);
    expect(got).toEqual(parseAuditLine(huge));
    expect(typeof got === 'object' && got.event.requestObject).not.toBe(NOT_READ);
  });

  it('reads a body nested 10,000 deep, and counts one broken inside as invalid JSON', () => {
    const deep = statusUpdate().replace('"requestObject":{', `"requestObject":{"deep":${'['.repeat(10_000)}1${']'.repeat(10_000)},`);
    const [got, want] = both(deep);
    expect(got).toEqual(want);
    const broken = statusUpdate().replace('"requestObject":{', `"requestObject":{"deep":${'['.repeat(10_000)}1${']'.repeat(9_999)},`);
    expect(parser.parse(broken)).toBe('invalid-json');
  });
});

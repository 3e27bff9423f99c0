import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readAuditLog, type AuditReadOptions } from '../../src/replay/audit-reader.js';
import { mergeKey } from '../../src/replay/merge-lines.js';
import { formatProgress, Progress } from '../../src/replay/progress.js';
import { ReorderBuffer } from '../../src/replay/reorder.js';
import type { AuditEvent, TimedAuditEvent } from '../../src/timeline/audit-event.js';
import { at, auditEvent, deploymentObject, receivedStage, toLog } from '../fixtures/audit/builders.js';

const dir = mkdtempSync(join(tmpdir(), 'rollguard-audit-reader-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let fileNo = 0;
function file(content: string | Buffer, ext = '.log'): string {
  const path = join(dir, `audit-${fileNo++}${ext}`);
  writeFileSync(path, content);
  return path;
}

type Held = TimedAuditEvent & { auditID: string };
const hold = (item: TimedAuditEvent): Held => ({ ...item, auditID: item.event.auditID });

async function read(paths: string[], options: AuditReadOptions = {}, relevant: (e: AuditEvent) => boolean = () => true) {
  const got: Held[] = [];
  const stats = await readAuditLog(paths, (item) => (relevant(item.event) ? hold(item) : undefined), (e) => got.push(e), options);
  return { stats, got, ids: got.map((e) => e.auditID) };
}

const patch = (minutes: number, id: string, extra: Partial<Parameters<typeof auditEvent>[0]> = {}): AuditEvent =>
  auditEvent({ verb: 'patch', resource: 'deployments', namespace: 'shop', name: 'checkout', at: at(minutes), auditID: id, responseObject: deploymentObject(), requestObject: {}, ...extra });

describe('F5 bad audit lines are counted by reason, never fatal', () => {
  it('accepts only successful ResponseComplete audit.k8s.io/v1 Events and counts every other line', async () => {
    const ok = patch(1, 'ok-1');
    const lines = [
      JSON.stringify(receivedStage(ok)),
      JSON.stringify(ok),
      JSON.stringify({ ...patch(2, 'started'), stage: 'ResponseStarted' }),
      JSON.stringify({ ...patch(2, 'panic'), stage: 'Panic' }),
      JSON.stringify(patch(3, 'conflict', { code: 409 })),
      JSON.stringify(patch(3, 'forbidden', { code: 403 })),
      JSON.stringify(patch(3, 'dry', { query: '?dryRun=All&fieldManager=kubectl' })),
      JSON.stringify({ ...patch(4, 'beta'), apiVersion: 'audit.k8s.io/v1beta1' }),
      JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [] }),
      JSON.stringify({ kind: 'Pod', apiVersion: 'v1' }),
      JSON.stringify([1, 2, 3]),
      JSON.stringify({ ...patch(5, 'no-time'), stageTimestamp: 'yesterday' }),
      JSON.stringify({ ...patch(5, 'no-status'), responseStatus: undefined }),
      '',
      '   ',
      '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"cut-off","sta',
      'not json at all',
      JSON.stringify(patch(6, 'ok-2')),
    ];
    const { stats, ids } = await read([file(lines.join('\n'))]);
    expect(ids).toEqual(['ok-1', 'ok-2']);
    expect(stats.skipped).toEqual({
      stage: 3,
      failed: 2,
      'dry-run': 1,
      'api-version': 1,
      'not-an-event': 3,
      incomplete: 2,
      'invalid-json': 2,
    });
    expect(stats.lines).toBe(16);
    expect(stats.used).toBe(2);
  });

  it('counts events outside the timeline as irrelevant and keeps them out of the sink', async () => {
    const pods = auditEvent({ verb: 'get', resource: 'pods', namespace: 'shop', name: 'p', at: at(1), level: 'Metadata' });
    const { stats, ids } = await read([file(toLog([pods, patch(2, 'd')]))], {}, (e) => e.objectRef?.resource === 'deployments');
    expect(ids).toEqual(['d']);
    expect(stats.irrelevant).toBe(1);
  });

  it('counts whole v1 lines that mention none of the tracked strings as irrelevant without parsing, and still classifies the rest', async () => {
    const pods = auditEvent({ verb: 'get', resource: 'pods', namespace: 'shop', name: 'p', at: at(1), level: 'Metadata' });
    const lines = [
      JSON.stringify(pods),
      JSON.stringify({ ...pods, auditID: 'failed-pod-read', responseStatus: { code: 500 } }),
      JSON.stringify(patch(2, 'd')),
      JSON.stringify({ ...pods, apiVersion: 'audit.k8s.io/v1beta1' }),
      JSON.stringify(pods).slice(0, 80),
      JSON.stringify(patch(3, 'failed', { code: 409 })),
    ];
    const { stats, ids } = await read([file(lines.join('\n'))], { mentions: ['"deployments"'] });
    expect(ids).toEqual(['d']);
    expect(stats.irrelevant).toBe(2);
    expect(stats.skipped).toEqual({ 'api-version': 1, 'invalid-json': 1, failed: 1 });
    expect(stats.lines).toBe(6);
  });

  it('matches the tracked strings literally: a line holding one parses, a look-alike does not', async () => {
    // Whole-looking v1 lines that are not JSON: parsed, each is counted invalid-json; left unparsed, irrelevant.
    const line = (word: string) => `{"kind":"Event","apiVersion":"audit.k8s.io/v1","objectRef":{"resource":"${word}"} broken}`;
    const lines = [line('apps.v1(x)'), line('appsXv1(x)'), line('apps.v1x'), line('apps.v1(x)|')];
    const { stats } = await read([file(lines.join('\n'))], { mentions: ['"apps.v1(x)"', '"a|b"'] });
    expect(stats.skipped).toEqual({ 'invalid-json': 1 });
    expect(stats.irrelevant).toBe(3);
  });

  it('reads the intact part of a gzip file cut off mid-stream and reports it truncated', async () => {
    const events = Array.from({ length: 400 }, (_, i) => patch(i / 10, `gz-${i}`));
    const whole = gzipSync(Buffer.from(toLog(events)));
    const cut = whole.subarray(0, Math.floor(whole.length * 0.6));
    const { stats, ids } = await read([file(cut, '.log.gz')]);
    expect(ids.length).toBeGreaterThan(50);
    expect(ids.length).toBeLessThan(400);
    expect(ids).toEqual(events.slice(0, ids.length).map((e) => e.auditID));
    expect((stats.skipped['invalid-json'] ?? 0) + (stats.skipped['truncated-file'] ?? 0)).toBeGreaterThan(0);
  });

  it('reports a corrupt gzip stream without throwing, keeping the lines before the damage', async () => {
    const first = Array.from({ length: 20 }, (_, i) => patch(i / 10, `c-${i}`));
    const second = Buffer.from(gzipSync(Buffer.from(toLog([patch(5, 'lost')]))));
    second.fill(0xff, 12, 40);
    const { stats, ids } = await read([file(Buffer.concat([gzipSync(Buffer.from(toLog(first))), second]), '.gz')]);
    // zlib may drop its last output chunk before the damage; everything it decoded is kept, in order.
    expect(ids.length).toBeGreaterThanOrEqual(10);
    expect(ids).toEqual(first.slice(0, ids.length).map((e) => e.auditID));
    expect(ids).not.toContain('lost');
    expect(stats.skipped['truncated-file']).toBe(1);
    expect(stats.files[0]?.truncated).toBeTypeOf('string');
  });
});

describe('R1 audit input: gzip and rotated files', () => {
  it('reads gzip by its magic bytes whatever the file is called, and plain files alike', async () => {
    const events = [patch(1, 'a'), patch(2, 'b')];
    const gz = await read([file(gzipSync(Buffer.from(toLog(events))), '.log')]);
    const plain = await read([file(toLog(events), '.gz')]);
    expect(gz.ids).toEqual(['a', 'b']);
    expect(plain.ids).toEqual(['a', 'b']);
    expect(gz.stats.files[0]?.gzip).toBe(true);
    expect(plain.stats.files[0]?.gzip).toBe(false);
  });

  it('reads rotated files in time order whatever order they are given in', async () => {
    const older = file(gzipSync(Buffer.from(toLog([patch(1, 'r1'), patch(2, 'r2')]))), '.log.gz');
    const middle = file(toLog([patch(10, 'r3'), patch(11, 'r4')]));
    const newest = file(toLog([patch(20, 'r5')]));
    const { ids, stats } = await read([newest, older, middle], { reorderWindowMs: 0 });
    expect(ids).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect(stats.files.map((f) => f.path)).toEqual([newest, older, middle]);
    expect(stats.files.map((f) => f.lines)).toEqual([1, 2, 2]);
    expect(stats.skipped).toEqual({});
  });
});

describe('R1 ordering: the logs of several apiservers', () => {
  it('interleaves files that cover the same hours, far beyond the reorder window', async () => {
    const a = Array.from({ length: 30 }, (_, i) => patch(i * 10, `a-${i}`));
    const b = Array.from({ length: 30 }, (_, i) => patch(i * 10 + 5, `b-${i}`));
    const { ids, stats } = await read([file(toLog(a)), file(gzipSync(Buffer.from(toLog(b))))], { reorderWindowMs: 1000 });
    expect(ids).toEqual(a.flatMap((e, i) => [e.auditID, b[i]?.auditID ?? '']));
    expect(stats.skipped).toEqual({});
  });

  it('merges by stageTimestamp to the second, read from the end of the line', () => {
    const e = patch(1, 'k');
    expect(mergeKey(JSON.stringify(e), 'x')).toBe(e.stageTimestamp.slice(0, 19));
    expect(mergeKey('{"kind":"Event"}', 'previous')).toBe('previous');
    expect(mergeKey('{"stageTimestamp":"2026-03', 'previous')).toBe('previous');
  });

  it('reports a file it cannot open and reads the others', async () => {
    const { ids, stats } = await read([join(dir, 'nope.log'), file(toLog([patch(1, 'ok')]))]);
    expect(ids).toEqual(['ok']);
    expect(stats.skipped['truncated-file']).toBe(1);
  });
});

describe('R1 ordering: reordered and duplicated events', () => {
  it('releases records in stageTimestamp order and drops repeated auditIDs', async () => {
    const log = [patch(3, 'c'), patch(1, 'a'), patch(2, 'b'), patch(1, 'a'), patch(5, 'e'), patch(4, 'd'), patch(3, 'c')];
    const { ids, stats } = await read([file(toLog(log))]);
    expect(ids).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(stats.skipped).toEqual({ duplicate: 2 });
  });

  it('keeps events with equal timestamps in the order they were written', async () => {
    const { ids } = await read([file(toLog([patch(1, 'x'), patch(1, 'y'), patch(1, 'z')]))]);
    expect(ids).toEqual(['x', 'y', 'z']);
  });

  it('drops a record that arrives after its place was already released, and says so', () => {
    const out: string[] = [];
    const buf = new ReorderBuffer(60_000, (e) => out.push(e.auditID));
    const item = (id: string, minutes: number) => ({ at: at(minutes), auditID: id });
    expect(buf.push(item('a', 0))).toBeUndefined();
    expect(buf.push(item('b', 5))).toBeUndefined();
    expect(out).toEqual(['a']);
    expect(buf.push(item('late', -1))).toBe('too-late');
    expect(buf.push(item('in-window', 4.5))).toBeUndefined();
    expect(buf.push(item('b', 5))).toBe('duplicate');
    buf.flush();
    expect(out).toEqual(['a', 'in-window', 'b']);
    expect(buf.size).toBe(0);
  });

  it('holds only the reorder window, not the log', () => {
    let released = 0;
    const buf = new ReorderBuffer(10_000, () => released++);
    let maxHeld = 0;
    for (let i = 0; i < 5000; i++) {
      buf.push({ at: at(0) + i * 1000, auditID: `id-${i}` });
      maxHeld = Math.max(maxHeld, buf.size);
    }
    expect(maxHeld).toBeLessThanOrEqual(11);
    expect(released).toBeGreaterThan(4980);
  });
});

describe('F5 progress line', () => {
  const pos = { path: '/var/log/kubernetes/audit/audit-2026-03-02T10-00-00.000.log.gz', index: 1, count: 3, bytesRead: 512, size: 1024 };

  it('says events, rate and where in which file', () => {
    expect(formatProgress(1_500_000, 3000, pos)).toBe('audit: 1,500,000 events, 500,000 events/s, file 2/3 audit-2026-03-02T10-00-00.000.log.gz 50%');
  });

  it('draws only on a terminal, for large input, at most once a second', () => {
    const writes: string[] = [];
    let now = 0;
    const sink = { isTTY: true, write: (t: string) => writes.push(t) };
    expect(Progress.enabled(sink, 10)).toBe(false);
    expect(Progress.enabled({ ...sink, isTTY: false }, 1e12)).toBe(false);
    expect(Progress.enabled(sink, 1e12)).toBe(true);
    const p = new Progress(sink, () => now);
    now = 1500;
    p.tick(1024, pos);
    p.tick(2048, pos);
    now = 3000;
    p.tick(3072, pos);
    p.done();
    expect(writes).toHaveLength(3);
    expect(writes[0]).toContain('1,024 events');
    expect(writes[1]).toContain('3,072 events');
    expect(writes[2]).toBe('\r\x1b[2K');
  });
});

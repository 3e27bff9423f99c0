import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { timelineFromAuditLog } from '../../src/replay/extract.js';
import { deployAsOf } from '../../src/timeline/deploys.js';
import type { AuditEvent } from '../../src/timeline/audit-event.js';
import { at, toLog } from '../fixtures/audit/builders.js';
import { checkoutIncident, metadataOnly, PLANTED_SECRET } from '../fixtures/audit/scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'rollguard-extract-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function file(events: readonly unknown[], gzip = false): string {
  const path = join(dir, `audit-${n++}.log${gzip ? '.gz' : ''}`);
  const text = toLog(events);
  writeFileSync(path, gzip ? gzipSync(Buffer.from(text)) : text);
  return path;
}

const incident = checkoutIncident();
const expected = await timelineFromAuditLog([file(incident)]);
const stripStats = (r: Awaited<ReturnType<typeof timelineFromAuditLog>>) => JSON.stringify({ events: r.events, deploys: r.deploys });

describe('R1 R3 R4 the incident timeline from a RequestResponse audit log', () => {
  it('has the deploy, its rollout, the config and Secret writes and the migration Job, in time order', () => {
    expect(expected.events.map((e) => `${e.type}:${e.type === 'job-run' ? e.name : e.type === 'config-change' ? `${e.kind}/${e.name}/${e.action}/${e.content}` : e.type === 'config-collection-delete' ? e.kind : e.name}`)).toEqual([
      'config-change:Secret/db/create/changed',
      'config-change:ConfigMap/checkout-config-v2/create/changed',
      'config-change:Secret/db/update/changed',
      'config-change:Secret/db/update/unchanged',
      'job-run:db-migrate-42',
      'deployment-template-change:checkout',
      'rollout-complete:checkout',
    ]);
    expect(expected.deploys).toHaveLength(1);
    const [d] = expected.deploys;
    expect(d).toMatchObject({ templateChange: 'changed', start: at(0), completeAt: at(3.5), statusSeenAt: at(0.5), revision: { previous: 1, current: 2 } });
  });

  it('counts the lines it did not use, by reason', () => {
    const { stats } = expected;
    expect(stats.skipped).toEqual({ stage: 13, failed: 1 });
    expect(stats.used).toBe(12);
    expect(stats.irrelevant).toBe(13 * 3);
    expect(stats.lines).toBe(incident.length);
  });
});

describe('R1 ordering: reordered, duplicated, rotated and gzipped input gives the same timeline', () => {
  it('is unchanged when records are jumbled within the reorder window and repeated', () => {
    const jumbled: AuditEvent[] = [];
    for (let i = 0; i < incident.length; i += 2) {
      const a = incident[i];
      const b = incident[i + 1];
      if (b) jumbled.push(b);
      if (a) jumbled.push(a);
      if (i % 6 === 0 && a) jumbled.push(a);
    }
    return timelineFromAuditLog([file(jumbled)]).then((r) => {
      expect(stripStats(r)).toBe(stripStats(expected));
      expect(r.stats.skipped.duplicate).toBeGreaterThan(0);
    });
  });

  it('is unchanged when split into rotated files, gzipped or not, given in any order', async () => {
    const third = Math.floor(incident.length / 3);
    const older = file(incident.slice(0, third), true);
    const middle = file(incident.slice(third, 2 * third), true);
    const current = file(incident.slice(2 * third));
    const r = await timelineFromAuditLog([current, older, middle]);
    expect(stripStats(r)).toBe(stripStats(expected));
    expect(r.stats.files.map((f) => f.gzip)).toEqual([false, true, true]);
  });

  it('merges the logs of several apiservers, each holding part of the requests', async () => {
    const apiservers: AuditEvent[][] = [[], [], []];
    incident.forEach((e, i) => apiservers[i % 3]?.push(e));
    const r = await timelineFromAuditLog(apiservers.map((events, i) => file(events, i === 1)));
    expect(stripStats(r)).toBe(stripStats(expected));
    expect(r.stats.skipped['too-late']).toBeUndefined();
  });

  it('overlapping rotated files (a record in both) count it once', async () => {
    const half = Math.floor(incident.length / 2);
    const r = await timelineFromAuditLog([file(incident.slice(0, half + 6)), file(incident.slice(half))]);
    expect(stripStats(r)).toBe(stripStats(expected));
  });
});

describe('F1 a Metadata-only audit log', () => {
  const run = timelineFromAuditLog([file(metadataOnly(incident))]);

  it('makes every config write a change of unknown content and the deploy a possible one', async () => {
    const { events, deploys } = await run;
    const configs = events.filter((e) => e.type === 'config-change');
    expect(configs.map((e) => e.content)).toEqual(['unknown', 'unknown', 'unknown', 'unknown']);
    expect(deploys.map((d) => ({ t: d.templateChange, before: d.before, after: d.after, start: d.start }))).toEqual([{ t: 'possible', before: undefined, after: undefined, start: at(0) }]);
  });

  it('never sees the rollout complete: the window stays unknown', async () => {
    const { events, deploys } = await run;
    expect(events.some((e) => e.type === 'rollout-complete')).toBe(false);
    const [d] = deploys;
    if (!d) throw new Error('no deploy');
    expect(deployAsOf(d, at(60)).rollout).toEqual({ state: 'unknown' });
  });

  it('knows the migration Job by name, with its end unknown', async () => {
    const { events } = await run;
    expect(events.find((e) => e.type === 'job-run')).toMatchObject({ name: 'db-migrate-42', job: undefined, finishedAt: undefined });
  });
});

describe('F3 a Secret value in the audit log appears nowhere in the timeline', () => {
  const needles = [PLANTED_SECRET, Buffer.from(PLANTED_SECRET).toString('base64'), Buffer.from(`${PLANTED_SECRET}-old`).toString('base64'), 'hunter2'];

  it('the log really holds it, in plain text and base64', () => {
    const log = readFileSync(join(dir, readdirSync(dir).sort()[0] ?? ''), 'utf8');
    for (const needle of needles) expect(log).toContain(needle);
  });

  it('the events, deploys and stats do not', () => {
    const serialized = JSON.stringify(expected);
    for (const needle of needles) expect(serialized).not.toContain(needle);
    expect(serialized).toContain('"kind":"Secret"');
  });
});

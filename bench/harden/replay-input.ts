import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { timelineFromAuditLog } from '../../src/replay/extract.js';
import { mutate, type Mutation } from './mutations.js';
import { rng as seeded } from '../../test/support/metric-scenarios.js';
import { count, type HardenPart, type HardenRow } from './table.js';

// Hostile input for `rollguard replay`: the example audit log's lines, mutated, written to one file
// and read by the replay's own reader and timeline (timelineFromAuditLog). Nothing may crash; every
// line is used, counted irrelevant, or skipped with its reason.

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'replay', 'audit.log');

export function replayHostileInput(opts: { total: number; seed?: number }): HardenPart {
  return {
    name: 'replay: hostile audit lines',
    async run({ short }): Promise<HardenRow> {
      const total = short ? Math.min(opts.total, 3000) : opts.total;
      const rand = seeded(opts.seed ?? 1717);
      const lines = readFileSync(EXAMPLE, 'utf8').split('\n').filter((l) => l !== '');
      const docs = lines.map((text) => ({ text, doc: JSON.parse(text) as Record<string, unknown> }));
      const dir = await mkdtemp(join(tmpdir(), 'rollguard-harden-'));
      const file = join(dir, 'audit.log');
      const out = createWriteStream(file);
      const byKind = new Map<Mutation, number>();
      let blankOrSplit = 0;
      for (let i = 0; i < total; i++) {
        const { doc, text } = docs[Math.floor(rand() * docs.length)] as { doc: Record<string, unknown>; text: string };
        const m = mutate(doc, text, rand, { oversizedEvery: 10_000, oversizedBytes: 256 * 1024, deepEvery: 200 });
        byKind.set(m.kind, (byKind.get(m.kind) ?? 0) + 1);
        // A line is what lies between newlines: a mutation that puts one in (invalid bytes can) splits it.
        const body = Buffer.from(m.body.toString('latin1').replace(/[\n\r]/g, ' '), 'latin1');
        if (body.length === 0) blankOrSplit++;
        if (!out.write(Buffer.concat([body, Buffer.from('\n')]))) await once(out, 'drain');
      }
      out.end();
      await once(out, 'finish');
      let crash: string | undefined;
      let stats: Awaited<ReturnType<typeof timelineFromAuditLog>>['stats'] | undefined;
      const began = performance.now();
      try {
        stats = (await timelineFromAuditLog([file])).stats;
      } catch (err) {
        crash = err instanceof Error ? err.message : String(err);
      }
      const seconds = (performance.now() - began) / 1000;
      await rm(dir, { recursive: true, force: true });
      const kinds = [...byKind].sort().map(([k, n]) => `${k} ${count(n)}`).join(', ');
      const tried = `${count(total)} mutated audit lines (from examples/replay/audit.log) in one file through the replay reader and timeline: ${kinds}`;
      if (stats === undefined) return { part: this.name, held: 'nothing: the read failed', tried, lost: [`crash: ${crash ?? 'unknown'}`] };
      const skipped = Object.values(stats.skipped).reduce((a, b) => a + b, 0);
      const accounted = stats.used + stats.irrelevant + skipped;
      const lost: string[] = [];
      // Blank lines are not records; every other line must be accounted for.
      if (accounted !== stats.lines) lost.push(`${count(stats.lines - accounted)} lines neither used, irrelevant nor skipped with a reason`);
      const reasons = Object.entries(stats.skipped).sort().map(([r, n]) => `${r} ${count(n)}`).join(', ');
      return {
        part: this.name,
        held: `0 crashes; ${count(stats.lines)} lines read in ${seconds.toFixed(1)} s: ${count(stats.used)} used, ${count(stats.irrelevant)} irrelevant, ${count(skipped)} skipped by reason (${reasons})${blankOrSplit > 0 ? `, ${count(blankOrSplit)} blank` : ''}`,
        tried,
        lost,
      };
    },
  };
}

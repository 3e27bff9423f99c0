import { renderTable, type HardenPart, type HardenRow } from './harden/table.js';
import { agentFaults } from './harden/agent-faults.js';
import { replayHostileInput } from './harden/replay-input.js';
import { webhookHostileInput } from './harden/webhook-input.js';

// `npm run harden` (issue 17): runs each hardening part and prints one table, part | what was held |
// what was tried | what was lost. `--short` runs a few thousand inputs per part (CI runs it in
// test/bench/harden.test.ts). Exit 1 when anything was lost. Loopback only.
// Parts still to come here: webhook under load, certificate rotation under load.

export const PARTS: readonly HardenPart[] = [
  webhookHostileInput({ total: 1_000_000 }),
  replayHostileInput({ total: 1_000_000 }),
  agentFaults({ schedules: 50, shortSchedules: 3, windowMs: 60_000 }),
];

export async function runHarden(opts: { short: boolean; parts?: readonly HardenPart[] }): Promise<HardenRow[]> {
  const rows: HardenRow[] = [];
  for (const part of opts.parts ?? PARTS) {
    try {
      rows.push(...[await part.run({ short: opts.short })].flat());
    } catch (err) {
      rows.push({ part: part.name, held: 'nothing: the part failed', tried: '', lost: [`the part itself failed: ${err instanceof Error ? err.message : String(err)}`] });
    }
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const short = process.argv.includes('--short');
  const only = process.argv.find((a) => a.startsWith('--part='))?.slice('--part='.length);
  const parts = only === undefined ? PARTS : PARTS.filter((p) => p.name.startsWith(only));
  const rows = await runHarden({ short, parts });
  process.stdout.write(renderTable(rows));
  process.exitCode = rows.some((r) => r.lost.length > 0) ? 1 : 0;
}

import { renderTable, type HardenPart, type HardenRow } from './harden/table.js';
import { agentFaults } from './harden/agent-faults.js';
import { replayHostileInput } from './harden/replay-input.js';
import { webhookHostileInput } from './harden/webhook-input.js';
import { webhookUnderLoad } from './harden/webhook-load.js';
import { certRotationUnderLoad } from './harden/cert-rotation.js';
import { parseDuration } from '../src/core/duration.js';

// `npm run harden` (issue 17): runs each hardening part and prints one table, part | what was held |
// what was tried | what was lost. `--short` runs a few thousand inputs per part (CI runs it in
// test/bench/harden.test.ts). Exit 1 when anything was lost. Loopback only.
// Flags: --part=PREFIX runs the parts whose name starts with it; --rate=N (reviews/s, default 1000)
// and --duration=D (default 10m) set the load and certificate-rotation parts' length.

export interface HardenFlags {
  rate: number;
  durationMs: number;
}

export const DEFAULT_FLAGS: HardenFlags = { rate: 1000, durationMs: 10 * 60_000 };

export function hardenParts(flags: HardenFlags = DEFAULT_FLAGS): HardenPart[] {
  return [
    webhookHostileInput({ total: 1_000_000 }),
    replayHostileInput({ total: 1_000_000 }),
    webhookUnderLoad(flags),
    certRotationUnderLoad(flags),
    agentFaults({ schedules: 50, shortSchedules: 3, windowMs: 60_000 }),
  ];
}

export const PARTS: readonly HardenPart[] = hardenParts();

function flag(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

export function parseFlags(): HardenFlags {
  const rate = flag('rate') === undefined ? DEFAULT_FLAGS.rate : Number(flag('rate'));
  const durationMs = flag('duration') === undefined ? DEFAULT_FLAGS.durationMs : parseDuration(flag('duration') ?? '');
  if (!(rate > 0) || durationMs === undefined) throw new Error('usage: harden [--short] [--part=PREFIX] [--rate=REVIEWS_PER_S] [--duration=10m]');
  return { rate, durationMs };
}

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
  const only = flag('part');
  const all = hardenParts(parseFlags());
  const parts = only === undefined ? all : all.filter((p) => p.name.startsWith(only));
  const rows = await runHarden({ short, parts });
  process.stdout.write(renderTable(rows));
  process.exitCode = rows.some((r) => r.lost.length > 0) ? 1 : 0;
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replayOutcome, type ReplayOptions } from '../../src/replay/replay-run.js';
import { replayInWorker } from '../../src/replay/replay-worker.js';
import { at, toLog } from '../fixtures/audit/builders.js';
import { checkoutIncident, cleanDeploy } from '../fixtures/audit/scenario.js';
import { generateSeries } from '../support/metric-scenarios.js';
import { toOpenMetrics } from '../support/prometheus.js';

// `rollguard replay` runs its whole job in a worker thread with a bounded young generation: the
// answer must be the one the same job gives in the calling thread, usage errors included.

const dir = mkdtempSync(join(tmpdir(), 'rollguard-replay-worker-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const log = join(dir, 'audit.log');
writeFileSync(log, toLog([...checkoutIncident(), ...cleanDeploy('pay', 'api', 1)].sort((a, b) => Date.parse(a.stageTimestamp) - Date.parse(b.stageTimestamp))));
const metrics = join(dir, 'metrics.om');
const series = (namespace: string, service: string, regressAt: number) =>
  generateSeries({ seed: 3, namespace, service, stepMs: 30_000, start: at(-60), end: at(40), rate: () => 40, errorShare: (t) => (t >= regressAt ? 0.09 : 0.003), latencyMedian: () => 0.08 });
writeFileSync(metrics, toOpenMetrics([series('shop', 'checkout', at(2)), series('pay', 'api', at(3))]));

describe('R1 R4 the replay job in its worker thread', () => {
  it.each(['json', 'text'] as const)('gives the output the same job gives in this thread (%s)', async (output) => {
    const options: ReplayOptions = { audit: [log], metrics, output };
    const here = await replayOutcome(options);
    const there = await replayInWorker(options);
    expect(there).toEqual(here);
    expect(here.type === 'output' && here.text).toMatch(/pay\/api.*auto|"verdict":"auto"/);
  });

  it('F5 answers input it cannot replay as a usage error, with the reason', async () => {
    const there = await replayInWorker({ audit: [join(dir, 'missing.log')], metrics, output: 'text' });
    expect(there).toEqual({ type: 'usage', message: expect.stringMatching(/cannot read the audit log .*missing\.log/) as unknown });
  });
});

describe('F5 a replay that runs out of the worker’s memory', () => {
  it('is answered with what to do instead of a crash (a 4 MB cap: too small for anything)', async () => {
    const there = await replayInWorker({ audit: [log], metrics, output: 'json' }, false, 4);
    expect(there).toEqual({ type: 'usage', message: 'the audit logs hold more than replay can keep in 4 MB of memory; replay fewer files at a time' });
  });
});

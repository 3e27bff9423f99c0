import { afterAll, describe, expect, it } from 'vitest';
import { PARTS, runHarden } from '../../bench/harden.js';
import { renderTable, type HardenPart } from '../../bench/harden/table.js';
import { killStartedProcesses } from '../support/process.js';

// `npm run harden --short` in CI (issue 17): a few thousand hostile inputs per part, nothing lost.
// The full run (≥ 1,000,000 inputs per part) and its figures are `npm run harden`'s.

describe('F2 F5 npm run harden --short', () => {
  // A part cut short by the test's timeout leaves its servers running otherwise.
  afterAll(killStartedProcesses);

  it('every part holds: no crash, every webhook answer a valid AdmissionReview or a precise 4xx, every replay line accounted for', async () => {
    // Parts with a CI file of their own run there, in parallel with the rest.
    const parts = PARTS.filter((p) => p.ciFile === undefined);
    const rows = await runHarden({ short: true, parts });
    expect(rows.map((r) => r.part)).toEqual(parts.map((p) => p.name));
    for (const row of rows) expect(row.lost, `${row.part}: ${row.held}`).toEqual([]);
    expect(rows[0]?.held).toMatch(/^0 crashes; [\d,]+ valid AdmissionReviews \(uid echoed\), [\d,]+ precise 4xx/);
    expect(rows[1]?.held).toMatch(/^0 crashes; [\d,]+ lines read in [\d.]+ s: [\d,]+ used, [\d,]+ irrelevant, [\d,]+ skipped by reason \(/);
    const load = rows.find((r) => r.part === 'webhook: under load')?.held;
    expect(load).toMatch(/^steady 200\/s × 2 s: rollguard 0 failed of [\d,]+, p50 [\d.]+ \/ p99 [\d.]+ \/ max [\d.]+ ms, [\d,]+ of [\d,]+ shed \(admitted unstamped\); baseline 0 failed of [\d,]+, /);
    expect(load).toMatch(/rollguard RSS over the second half \d+ → \d+ MB \(medians of its first and last [\d.]+ s: growth [+-][\d.]+%; peak [+-][\d.]+% over the start\), /);
    expect(load).toMatch(/event-loop delay p99 over 5 s windows \(monitorEventLoopDelay at 10 ms resolution, read by each server\): rollguard worst [\d.]+ \/ median [\d.]+ ms, baseline worst [\d.]+ \/ median [\d.]+ ms; /);
    expect(load).toMatch(/spike 100→2,000\/s in 1 s: rollguard 0 failed of [\d,]+, p50 .* ms, [\d,]+ of [\d,]+ shed \(admitted unstamped\); baseline /);
    expect(load).toMatch(/knee \(p99 > 1 s or a failure\): rollguard (held|broke)/);
    expect(rows.find((r) => r.part === 'webhook: certificate rotation under load')?.held).toMatch(
      /^0 handshake errors, 0 failed of [\d,]+, .*; 3 swaps served at the next fresh handshake \(1 of them onto a new CA through an old\+new bundle\); refused with the last good pair serving, a metric and a log line: 1 expired, 1 mismatched, 1 truncated$/,
    );
  }, 120_000);

  it('a part that loses something, or fails itself, shows in the table', async () => {
    const broken: HardenPart = { name: 'broken', run: () => Promise.reject(new Error('boom')) };
    const lossy: HardenPart = { name: 'lossy', run: () => Promise.resolve({ part: 'lossy', held: 'h', tried: 't', lost: ['2 crashes'] }) };
    const table = renderTable(await runHarden({ short: true, parts: [broken, lossy] }));
    expect(table).toContain('| broken | nothing: the part failed |  | the part itself failed: boom |');
    expect(table).toContain('| lossy | h | t | 2 crashes |');
  });
});

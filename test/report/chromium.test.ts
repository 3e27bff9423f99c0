import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONDITION_LABELS } from '../../src/core/decision-types.js';
import { writeReport } from '../../src/report/write.js';
import { T0 } from '../support/builders.js';
import { reportInput } from './report-input.js';

// The report as an SRE sees it: opened from a file in Debian's headless Chromium (.ci/run installs
// it), screenshotted and its DOM dumped after rendering.

const run = promisify(execFile);
const CHROMIUM = process.env.CHROMIUM ?? 'chromium';
const dir = mkdtempSync(join(tmpdir(), 'rollguard-report-'));
const input = reportInput();
let url = '';

function chromiumArgs(profile: string): string[] {
  return ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`];
}

beforeAll(async () => {
  try {
    await run(CHROMIUM, ['--version'], { timeout: 20_000 });
  } catch {
    throw new Error(`the report test needs Debian's chromium on PATH (apt-get install -y chromium; .ci/run installs it), or CHROMIUM=/path/to/chromium`);
  }
  url = pathToFileURL(await writeReport(dir, input, T0)).href;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('R9 R10 the report in a real browser', () => {
  it('renders to a full, non-blank screenshot', async () => {
    const png = join(dir, 'report.png');
    await run(CHROMIUM, [...chromiumArgs(join(dir, 'profile-shot')), `--screenshot=${png}`, '--window-size=1200,1600', '--hide-scrollbars', url], { timeout: 90_000 });
    const bytes = readFileSync(png);
    expect(pngSize(bytes)).toEqual({ width: 1200, height: 1600 });
    // A blank or error page compresses to a few kB; the charts and tables do not.
    expect(statSync(png).size).toBeGreaterThan(60_000);
  });

  it('has the verdict, command, conditions, marks and change set in the rendered DOM', async () => {
    const { stdout } = await run(CHROMIUM, [...chromiumArgs(join(dir, 'profile-dom')), '--dump-dom', url], { timeout: 90_000, maxBuffer: 16 << 20 });
    const dom = stdout;
    for (const text of [
      'shop/checkout',
      'SUGGEST — a human decides',
      'kubectl rollout undo deployment/checkout -n shop --to-revision=6',
      CONDITION_LABELS.window,
      CONDITION_LABELS.podSpecOnly,
      'changed in place',
      'threshold 2%',
      'deploy start',
      'onset',
      'rollout complete',
      'verdict: suggest',
      'Job db-migrate-43 started (later)',
      'checkout:1.5.0',
    ]) {
      expect(dom).toContain(text);
    }
    expect(dom).toContain('&lt;img src=x onerror="alert(1)"&gt;');
    expect(dom.match(/<svg /g)).toHaveLength(2);
  });
});
